"""Thin discord.py extensions, one per concern, discovered by ``TutorBot.setup_hook``."""
