"""Conversation flows, free of channel and database libraries (a test checks the imports).

A dialog renders a screen for a state (`show`) and answers a member's input in
that state (`handle`) with a `Go` (move on) or a `Stay` (say something, ask again).
The runner in bot/handlers/runner.py does the rest: state, history, sending.
"""
