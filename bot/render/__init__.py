"""Rendering answers: plain text for the terminal here; Discord embeds in ``bot.render.discord``.

This package's ``__init__`` imports nothing from discord, so the terminal never pays
for (or depends on) the Discord client.
"""
