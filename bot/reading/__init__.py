"""Reading what students type: units (``units``) and calculation requests in their own words
(``numeric``).

It lives beside retrieval, not in the cogs, and imports no discord: the free-text reader,
``/labs`` and the typed-answer parser all turn a number and its unit into the engine's
units (mM, °C, mV) through the one registry in :mod:`bot.reading.units`. Nothing is
imported here, so reading a typed answer loads the units layer alone.
"""
