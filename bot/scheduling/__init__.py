"""Timers that claim due work from the database (reminders, check-ins, broadcasts).

Durable work lives in rows with a due time and a status (the `notice` outbox in
bot.storage.models; follow-ups and broadcast deliveries later); a timer here
claims due rows in batches, so a restart or a second process never sends
anything twice. `dispatcher.py` delivers notices through the running channels.
"""
