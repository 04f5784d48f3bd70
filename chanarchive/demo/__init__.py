"""The demo: a sample Telegram channel served on 127.0.0.1 (:mod:`.site`) and its data (``data/``). Demo and test code, not product code."""
