"""The floor: a bare discord.py bot whose one command only formats a number.

bench_discord.py drives it through the same emulator as membrane-tutor, so whatever
latency the tutor adds over discord.py itself is what the benchmark reports.
"""

from __future__ import annotations

import os

import discord
import yarl
from discord import app_commands

discord.http.Route.BASE = os.environ["DISCORD_API_BASE"]
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["DISCORD_GATEWAY_URL"])

client = discord.Client(intents=discord.Intents.none(), allowed_mentions=discord.AllowedMentions.none())
tree = app_commands.CommandTree(client)


@tree.command(description="Format a number (the benchmark floor)")
async def floor(interaction: discord.Interaction, value: float) -> None:
    await interaction.response.send_message(f"{value:.1f} mV")


async def setup_hook() -> None:
    await tree.sync()


client.setup_hook = setup_hook
client.run(os.environ["DISCORD_TOKEN"], log_handler=None)
