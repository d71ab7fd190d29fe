"""Physical constants and unit conversions used by every equation.

CODATA 2018 exact values (R and F are exact since the 2019 SI redefinition), so a
number computed here can be checked against any textbook that states its constants.
"""

from typing import Final

GAS_CONSTANT: Final = 8.314462618  # R, J mol⁻¹ K⁻¹
FARADAY: Final = 96485.33212  # F, C mol⁻¹
ZERO_CELSIUS: Final = 273.15  # K
MILLIVOLTS_PER_VOLT: Final = 1000.0
BODY_TEMPERATURE_C: Final = 37.0


def kelvin(celsius: float) -> float:
    """Absolute temperature for a temperature in °C."""
    return celsius + ZERO_CELSIUS
