"""membrane-tutor: a tutoring bot for membrane physiology (Discord and terminal)."""

__version__ = "0.1.0"
