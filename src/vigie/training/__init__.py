"""Training the text model (``make train``) and the data it learns from.

Needs the ``train`` extra (scikit-learn is also a run-time dependency; ``chitchat-dataset``
is only for training and evaluation). Serving never imports this package.
"""
