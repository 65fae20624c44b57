"""Timers that claim due work from the database (reminders, check-ins, broadcasts).

Durable work lives in rows with a due time and a status (bot.storage.models:
Reminder, Followup, Delivery); a timer here claims due rows in batches, so a
restart or a second process never sends anything twice. Nothing is due yet:
reminders arrive with the events issue, which adds the first timer here.
"""
