"""The safety officers' console (web pages served by Vigie)."""
