"""Channel adapters (console, Telegram, Matrix) and the channel-neutral runner."""
