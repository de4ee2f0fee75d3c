"""Matrix: Vigie as the HTTP server behind Synapse's synapse-http-antispam module.

``routes.py`` answers the module's spam checks, ``homeserver.py`` calls the homeserver back
(room members, media, server notices, admin actions), ``mapping.py`` turns Matrix events
into Vigie events, and ``actions.py`` applies the console's decisions to the homeserver.
Set-up for operators: docs/integrations/matrix.md.
"""
