"""Discord's limits, the one list from ``design.md``, each with the documentation page it comes from.

These numbers are typed in here from Discord's developer documentation, not imported from the bot:
the emulator exists to catch a bot that breaks them, so it must not share the bot's idea of them.
Where Discord's OpenAPI snapshot encodes the same limit (``maxLength``, ``maxItems``) both checks run;
where it leaves a limit out (the 6,000-character embed total, lower-case command names, required
options before optional ones, the follow-up cap) only this list can catch it.
"""

from __future__ import annotations

import re
from typing import Final

DOCS: Final = "https://discord.com/developers/docs"

# --- Messages -----------------------------------------------------------------------------------
# Create Message, JSON params: "content … Message contents (up to 2000 characters)".
# https://discord.com/developers/docs/resources/message#create-message
MESSAGE_CONTENT_MAX: Final = 2000
# Create Message: "embeds … Up to 10 rich embeds (up to 6000 characters)".
# https://discord.com/developers/docs/resources/message#create-message
MESSAGE_EMBEDS_MAX: Final = 10

# --- Embeds: the "Embed Limits" table -----------------------------------------------------------
# https://discord.com/developers/docs/resources/message#embed-object-embed-limits
EMBED_TITLE_MAX: Final = 256
EMBED_DESCRIPTION_MAX: Final = 4096
EMBED_FIELDS_MAX: Final = 25
EMBED_FIELD_NAME_MAX: Final = 256
EMBED_FIELD_VALUE_MAX: Final = 1024
EMBED_FOOTER_TEXT_MAX: Final = 2048
EMBED_AUTHOR_NAME_MAX: Final = 256
# "The combined sum of characters in all title, description, field.name, field.value, footer.text,
# and author.name fields across all embeds attached to a message must not exceed 6000 characters."
EMBEDS_TOTAL_MAX: Final = 6000

# --- Attachments and uploads --------------------------------------------------------------------
# Attachment object: "description … description for the file (max 1024 characters)".
# https://discord.com/developers/docs/resources/message#attachment-object
ATTACHMENT_DESCRIPTION_MAX: Final = 1024
# Create Message "attachments" and the spec's MessageAttachmentRequest array: at most 10 per message.
# https://discord.com/developers/docs/resources/message#create-message ; https://discord.com/developers/docs/reference#uploading-files
FILES_MAX: Final = 10
# Uploading Files: "The default limit is 10 MiB for all users". Discord applies it to each file; the
# design's list applies it to all files of one message together, which is stricter, so that is what
# is enforced (a message within it is within Discord's rule too).
# https://discord.com/developers/docs/reference#uploading-files
FILES_TOTAL_BYTES_MAX: Final = 10 * 1024 * 1024
# The interaction object's attachment_size_limit (bytes) for an un-boosted guild or a DM.
# https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-interaction-structure
DEFAULT_ATTACHMENT_SIZE_LIMIT: Final = 10 * 1024 * 1024

# --- Components ---------------------------------------------------------------------------------
# Action Row: "Up to 5 interactive button components or a single select component"; a message holds
# up to 5 action rows (legacy, non-Components-V2 layout).
# https://discord.com/developers/docs/components/reference#action-row
ACTION_ROWS_MAX: Final = 5
BUTTONS_PER_ROW_MAX: Final = 5
# Button: "label … Text that appears on the button; max 80 characters".
# https://discord.com/developers/docs/components/reference#button
BUTTON_LABEL_MAX: Final = 80
# custom_id: "Developer-defined identifier … max 100 characters", unique per message.
# https://discord.com/developers/docs/components/reference#anatomy-of-a-component-custom-id
CUSTOM_ID_MAX: Final = 100

# --- Modals (interaction callback type 9) --------------------------------------------------------
# Modal callback data: "title … Title of the popup modal, max 45 characters"; "components … Between
# 1 and 5 (inclusive) components that make up the modal"; custom_id "max 100 characters".
# https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-modal
MODAL_TITLE_MAX: Final = 45
MODAL_COMPONENTS_MIN: Final = 1
MODAL_COMPONENTS_MAX: Final = 5
# Text input: "label … Label for this component; max 45 characters" (a Label component's label too);
# "min_length … minimum input length for a text input; min 0, max 4000"; "max_length … min 1,
# max 4000"; "value … Pre-filled value; max 4000 characters"; "placeholder … max 100 characters".
# https://discord.com/developers/docs/components/reference#text-input ; …/components/reference#label
TEXT_INPUT_LABEL_MAX: Final = 45
TEXT_INPUT_MIN_LENGTH_LOW: Final = 0
TEXT_INPUT_MAX_LENGTH_LOW: Final = 1
TEXT_INPUT_LENGTH_HIGH: Final = 4000
TEXT_INPUT_PLACEHOLDER_MAX: Final = 100
LABEL_DESCRIPTION_MAX: Final = 100

# --- Interaction responses ----------------------------------------------------------------------
# Autocomplete callback data: "choices … autocomplete choices (max of 25 choices)".
# https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-autocomplete
AUTOCOMPLETE_CHOICES_MAX: Final = 25
# Option choice structure: "name … 1-100 character choice name"; "value … up to 100 characters if
# string". https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-option-choice-structure
CHOICE_NAME_MIN: Final = 1
CHOICE_NAME_MAX: Final = 100
CHOICE_VALUE_MAX: Final = 100
# "Interaction tokens are valid for 15 minutes … but you must send an initial response within
# 3 seconds of receiving the event. If the 3 second deadline is exceeded, the token will be
# invalidated." https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-callback
INITIAL_RESPONSE_DEADLINE_S: Final = 3.0
TOKEN_LIFETIME_S: Final = 15 * 60.0
# Create Followup Message: "Apps are limited to 5 followup messages per interaction if it was
# initiated from a user-installed app and isn't installed in the server (meaning the authorizing
# integration owners object only contains USER_INSTALL)".
# https://discord.com/developers/docs/interactions/receiving-and-responding#create-followup-message
USER_INSTALL_FOLLOWUPS_MAX: Final = 5
# Interaction Callback Data Structure, Messages: "flags … (only SUPPRESS_EMBEDS, EPHEMERAL,
# IS_COMPONENTS_V2, IS_VOICE_MESSAGE, and SUPPRESS_NOTIFICATIONS can be set)"; after a
# DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE "the only valid message flag you may use is EPHEMERAL".
# https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-interaction-callback-data-structure
# Flag values: https://discord.com/developers/docs/resources/message#message-object-message-flags
FLAG_SUPPRESS_EMBEDS: Final = 1 << 2
FLAG_EPHEMERAL: Final = 1 << 6
FLAG_LOADING: Final = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS: Final = 1 << 12
FLAG_IS_VOICE_MESSAGE: Final = 1 << 13
FLAG_IS_COMPONENTS_V2: Final = 1 << 15
CALLBACK_MESSAGE_FLAGS: Final = (
    FLAG_SUPPRESS_EMBEDS | FLAG_EPHEMERAL | FLAG_IS_COMPONENTS_V2 | FLAG_IS_VOICE_MESSAGE | FLAG_SUPPRESS_NOTIFICATIONS
)
DEFERRED_CALLBACK_FLAGS: Final = FLAG_EPHEMERAL

# --- Application commands -----------------------------------------------------------------------
# Application Command Naming: CHAT_INPUT command and option names match
# ^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$ and "If there is a lowercase variant of any letters
# used, you must use those". The design narrows this to ASCII: ^[-_a-z0-9]{1,32}$.
# https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-naming
COMMAND_NAME_RE: Final = re.compile(r"^[-_a-z0-9]{1,32}$")
# USER and MESSAGE commands "may be mixed case and can include spaces" (still 1-32 characters).
CONTEXT_MENU_NAME_MAX: Final = 32
# Application Command Structure: "description … Description for CHAT_INPUT commands, 1-100
# characters. Empty string for USER and MESSAGE commands"; option "description … 1-100 character".
# https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-structure
DESCRIPTION_MIN: Final = 1
DESCRIPTION_MAX: Final = 100
# "options … Parameters for the command, max of 25"; choices "max 25"; subcommand options "up to 25".
# https://discord.com/developers/docs/interactions/application-commands#application-command-object-application-command-option-structure
OPTIONS_MAX: Final = 25
CHOICES_MAX: Final = 25
# Option structure warning: "Required options must be listed before optional options".
# Same page. Also: "name must be unique within an array of application command options" and
# "autocomplete may not be set to true if choices are present".
# Registering a Command: "100 global CHAT_INPUT commands, 5 global USER commands, 5 global MESSAGE
# commands"; "the same amount of guild-specific commands per guild"; names unique per type and scope.
# https://discord.com/developers/docs/interactions/application-commands#registering-a-command
CHAT_INPUT_COMMANDS_MAX: Final = 100
USER_COMMANDS_MAX: Final = 5
MESSAGE_COMMANDS_MAX: Final = 5
# Slash Commands: "Slash commands can have a maximum of 8000 characters for combined name,
# description, and value properties for each command, its options (including subcommands and
# groups), and choices. When localization fields are present, only the longest localization for
# each field (including the default value) is counted". (Older revisions said 4000.)
# https://discord.com/developers/docs/interactions/application-commands#slash-commands
COMMAND_TOTAL_CHARS_MAX: Final = 8000

# --- Permissions shown to the app in (G)DMs -----------------------------------------------------
# Interaction structure footnote: app_permissions "includes ATTACH_FILES | EMBED_LINKS |
# MENTION_EVERYONE permissions for (G)DMs with other users, and additionally includes
# USE_EXTERNAL_EMOJIS for DMs with the app's bot user".
# https://discord.com/developers/docs/interactions/receiving-and-responding#interaction-object-interaction-structure
# Bit values: https://discord.com/developers/docs/topics/permissions#permissions-bitwise-permission-flags
PERM_ADMINISTRATOR: Final = 1 << 3
PERM_MANAGE_GUILD: Final = 1 << 5
PERM_VIEW_CHANNEL: Final = 1 << 10
PERM_SEND_MESSAGES: Final = 1 << 11
PERM_EMBED_LINKS: Final = 1 << 14
PERM_ATTACH_FILES: Final = 1 << 15
PERM_READ_MESSAGE_HISTORY: Final = 1 << 16
PERM_MENTION_EVERYONE: Final = 1 << 17
PERM_USE_EXTERNAL_EMOJIS: Final = 1 << 18
PERM_USE_APPLICATION_COMMANDS: Final = 1 << 31
DM_APP_PERMISSIONS: Final = PERM_ATTACH_FILES | PERM_EMBED_LINKS | PERM_MENTION_EVERYONE
BOT_DM_APP_PERMISSIONS: Final = DM_APP_PERMISSIONS | PERM_USE_EXTERNAL_EMOJIS

# --- JSON error codes ---------------------------------------------------------------------------
# https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes
ERR_GENERAL: Final = 0  # "General error (such as a malformed request body, amongst other things)"
ERR_UNKNOWN_MESSAGE: Final = 10008
ERR_UNKNOWN_WEBHOOK: Final = 10015
ERR_UNKNOWN_INTERACTION: Final = 10062
ERR_REQUEST_TOO_LARGE: Final = 40005  # "Request entity too large. Try sending something smaller in size"
ERR_ALREADY_ACKNOWLEDGED: Final = 40060  # "Interaction has already been acknowledged"
ERR_MAX_FOLLOWUPS: Final = 40094  # "This interaction has hit the maximum number of follow up messages"
ERR_EMPTY_MESSAGE: Final = 50006  # "Cannot send an empty message"
ERR_INVALID_WEBHOOK_TOKEN: Final = 50027  # "Invalid Webhook Token provided"
ERR_INVALID_FORM_BODY: Final = 50035  # "Invalid Form Body"
ERR_INVALID_JSON: Final = 50109  # "The request body contains invalid JSON."
ERR_MISSING_PERMISSIONS: Final = 50013  # "You lack permissions to perform that action"
ERR_CANNOT_MESSAGE_USER: Final = 50007  # "Cannot send messages to this user" (bots cannot DM bots)
MESSAGE_CONTENT_MAX: Final = 2000  # a user's message, as the client enforces it (without Nitro)

# --- Gateway close codes ------------------------------------------------------------------------
# https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes
CLOSE_UNKNOWN_ERROR: Final = 4000
CLOSE_UNKNOWN_OPCODE: Final = 4001
CLOSE_DECODE_ERROR: Final = 4002
CLOSE_NOT_AUTHENTICATED: Final = 4003
CLOSE_AUTHENTICATION_FAILED: Final = 4004
CLOSE_ALREADY_AUTHENTICATED: Final = 4005
CLOSE_INVALID_API_VERSION: Final = 4012
CLOSE_INVALID_INTENTS: Final = 4013
