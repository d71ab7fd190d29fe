"""Practice: generated problems, the mistake catalogue, reading and grading answers.

Pure logic, no Discord: the answers layer (``bot/answers/practice.py``) and the terminal
call these modules; the cogs only turn their results into buttons and modals.
"""
