"""Discord's rules that the OpenAPI snapshot leaves out, and the error body Discord answers with.

``spec.py`` checks the shape of a body; this module checks what Discord enforces beyond the shape:
the limits list in ``limits.py`` (the 6,000-character embed total, action-row sizes, lower-case
command names, required options first, …). Both produce :class:`Issue` objects, which
:func:`form_errors` nests into Discord's ``{"code": 50035, "errors": {...{"_errors": [...]}}}``
layout — the layout discord.py flattens into ``In data.embeds.0.description: …`` messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import limits as L
from .spec import SchemaIssue

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Issue:
    """One reason a body is rejected: where, Discord's code and message, and which check found it."""

    path: Path
    code: str
    message: str
    source: str  # "openapi" or "limits"
    rule: str = ""  # the limits constant or schema path behind it

    @classmethod
    def from_schema(cls, issue: SchemaIssue) -> Issue:
        """Wrap an OpenAPI finding so both kinds travel (and are reported) together."""
        return cls(issue.path, issue.code, issue.message, "openapi", issue.schema_path)


@dataclass(frozen=True)
class UploadedFile:
    """One ``files[n]`` part of a multipart request, kept with its bytes so tests can read them back."""

    index: int
    field_name: str
    filename: str
    content_type: str
    data: bytes = field(repr=False)

    @property
    def size(self) -> int:
        """Byte size, which is what Discord's upload limit counts."""
        return len(self.data)


def form_errors(issues: Iterable[Issue]) -> dict[str, Any]:
    """Nest issues into Discord's error tree: each path segment a key, ``_errors`` at the leaf."""
    tree: dict[str, Any] = {}
    for issue in issues:
        node = tree
        for segment in issue.path:
            node = node.setdefault(str(segment), {})
        entries = node.setdefault("_errors", [])
        entry = {"code": issue.code, "message": issue.message}
        if entry not in entries:
            entries.append(entry)
    return tree


def merge(*groups: Iterable[Issue]) -> list[Issue]:
    """Both validators often see the same over-long field; report it once (the first group's finding
    wins, so callers pass the limits list first: its messages are the ones Discord words)."""
    seen: set[Path] = set()
    out: list[Issue] = []
    for group in groups:
        for issue in group:
            key = issue.path
            if key not in seen:
                seen.add(key)
                out.append(issue)
    return out


def _too_long(path: Path, limit: int, rule: str) -> Issue:
    return Issue(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.", "limits", rule)


def _bad_length(path: Path, low: int, high: int, rule: str) -> Issue:
    return Issue(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.", "limits", rule)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


# --- Messages -------------------------------------------------------------------------------------


def embed_length(embed: dict[str, Any]) -> int:
    """Characters Discord counts towards the 6,000 total: title, description, field names and values,
    footer text and author name (the "Embed Limits" table)."""
    total = len(_text(embed.get("title"))) + len(_text(embed.get("description")))
    for f in embed.get("fields") or []:
        if isinstance(f, dict):
            total += len(_text(f.get("name"))) + len(_text(f.get("value")))
    footer, author = embed.get("footer"), embed.get("author")
    if isinstance(footer, dict):
        total += len(_text(footer.get("text")))
    if isinstance(author, dict):
        total += len(_text(author.get("name")))
    return total


def check_embeds(embeds: Any, prefix: Path) -> list[Issue]:
    """The embed limits table, per embed and for the message as a whole."""
    if not isinstance(embeds, list):
        return []
    issues: list[Issue] = []
    if len(embeds) > L.MESSAGE_EMBEDS_MAX:
        issues.append(_too_long((*prefix, "embeds"), L.MESSAGE_EMBEDS_MAX, "MESSAGE_EMBEDS_MAX"))
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            continue
        p = (*prefix, "embeds", i)
        for key, limit, rule in (
            ("title", L.EMBED_TITLE_MAX, "EMBED_TITLE_MAX"),
            ("description", L.EMBED_DESCRIPTION_MAX, "EMBED_DESCRIPTION_MAX"),
        ):
            if len(_text(embed.get(key))) > limit:
                issues.append(_too_long((*p, key), limit, rule))
        fields = embed.get("fields") or []
        if isinstance(fields, list):
            if len(fields) > L.EMBED_FIELDS_MAX:
                issues.append(_too_long((*p, "fields"), L.EMBED_FIELDS_MAX, "EMBED_FIELDS_MAX"))
            for j, f in enumerate(fields):
                if not isinstance(f, dict):
                    continue
                if len(_text(f.get("name"))) > L.EMBED_FIELD_NAME_MAX:
                    issues.append(_too_long((*p, "fields", j, "name"), L.EMBED_FIELD_NAME_MAX, "EMBED_FIELD_NAME_MAX"))
                if len(_text(f.get("value"))) > L.EMBED_FIELD_VALUE_MAX:
                    issues.append(
                        _too_long((*p, "fields", j, "value"), L.EMBED_FIELD_VALUE_MAX, "EMBED_FIELD_VALUE_MAX")
                    )
        footer, author = embed.get("footer"), embed.get("author")
        if isinstance(footer, dict) and len(_text(footer.get("text"))) > L.EMBED_FOOTER_TEXT_MAX:
            issues.append(_too_long((*p, "footer", "text"), L.EMBED_FOOTER_TEXT_MAX, "EMBED_FOOTER_TEXT_MAX"))
        if isinstance(author, dict) and len(_text(author.get("name"))) > L.EMBED_AUTHOR_NAME_MAX:
            issues.append(_too_long((*p, "author", "name"), L.EMBED_AUTHOR_NAME_MAX, "EMBED_AUTHOR_NAME_MAX"))
    total = sum(embed_length(e) for e in embeds if isinstance(e, dict))
    if total > L.EMBEDS_TOTAL_MAX:
        issues.append(
            Issue(
                (*prefix, "embeds"),
                "MAX_EMBED_SIZE_EXCEEDED",
                f"Embed size exceeds maximum size of {L.EMBEDS_TOTAL_MAX}",
                "limits",
                "EMBEDS_TOTAL_MAX",
            )
        )
    return issues


def check_components(components: Any, prefix: Path, *, components_v2: bool = False) -> list[Issue]:
    """Action rows and buttons of a legacy (non Components V2) message."""
    if not isinstance(components, list) or components_v2:
        return []
    issues: list[Issue] = []
    if len(components) > L.ACTION_ROWS_MAX:
        issues.append(_too_long((*prefix, "components"), L.ACTION_ROWS_MAX, "ACTION_ROWS_MAX"))
    seen_ids: set[str] = set()
    for i, row in enumerate(components):
        if not isinstance(row, dict) or row.get("type") != 1:
            continue
        children = row.get("components") or []
        rp = (*prefix, "components", i, "components")
        buttons = [c for c in children if isinstance(c, dict) and c.get("type") == 2]
        if len(buttons) > L.BUTTONS_PER_ROW_MAX:
            issues.append(_too_long(rp, L.BUTTONS_PER_ROW_MAX, "BUTTONS_PER_ROW_MAX"))
        for j, comp in enumerate(children):
            if not isinstance(comp, dict):
                continue
            cp = (*rp, j)
            if comp.get("type") == 2 and len(_text(comp.get("label"))) > L.BUTTON_LABEL_MAX:
                issues.append(_too_long((*cp, "label"), L.BUTTON_LABEL_MAX, "BUTTON_LABEL_MAX"))
            custom_id = comp.get("custom_id")
            is_link = comp.get("type") == 2 and comp.get("style") in (5, 6)  # link and premium buttons
            if custom_id is None and not is_link:
                issues.append(Issue((*cp, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required", "limits"))
            if isinstance(custom_id, str):
                if len(custom_id) > L.CUSTOM_ID_MAX:
                    issues.append(_too_long((*cp, "custom_id"), L.CUSTOM_ID_MAX, "CUSTOM_ID_MAX"))
                if custom_id in seen_ids:
                    issues.append(
                        Issue(
                            (*cp, "custom_id"),
                            "COMPONENT_CUSTOM_ID_DUPLICATED",
                            "Component custom id cannot be duplicated",
                            "limits",
                            "CUSTOM_ID_MAX",
                        )
                    )
                seen_ids.add(custom_id)
    return issues


def check_attachments(attachments: Any, files: Sequence[UploadedFile], prefix: Path) -> list[Issue]:
    """Attachment descriptions (alt text) and the number of files; sizes are a 413, see rest.py."""
    issues: list[Issue] = []
    if isinstance(attachments, list):
        if len(attachments) > L.FILES_MAX:
            issues.append(_too_long((*prefix, "attachments"), L.FILES_MAX, "FILES_MAX"))
        for i, att in enumerate(attachments):
            if isinstance(att, dict) and len(_text(att.get("description"))) > L.ATTACHMENT_DESCRIPTION_MAX:
                issues.append(
                    _too_long(
                        (*prefix, "attachments", i, "description"),
                        L.ATTACHMENT_DESCRIPTION_MAX,
                        "ATTACHMENT_DESCRIPTION_MAX",
                    )
                )
    if len(files) > L.FILES_MAX:
        issues.append(_too_long(("files",), L.FILES_MAX, "FILES_MAX"))
    return issues


def check_message(
    body: Any,
    prefix: Path = (),
    *,
    files: Sequence[UploadedFile] = (),
    allowed_flags: int | None = None,
) -> list[Issue]:
    """Every message limit of the list for one message body (create or edit)."""
    if not isinstance(body, dict):
        return []
    issues: list[Issue] = []
    if len(_text(body.get("content"))) > L.MESSAGE_CONTENT_MAX:
        issues.append(_too_long((*prefix, "content"), L.MESSAGE_CONTENT_MAX, "MESSAGE_CONTENT_MAX"))
    issues += check_embeds(body.get("embeds"), prefix)
    flags = body.get("flags") or 0
    components_v2 = isinstance(flags, int) and bool(flags & L.FLAG_IS_COMPONENTS_V2)
    issues += check_components(body.get("components"), prefix, components_v2=components_v2)
    issues += check_attachments(body.get("attachments"), files, prefix)
    if allowed_flags is not None and isinstance(flags, int) and flags & ~allowed_flags:
        issues.append(
            Issue(
                (*prefix, "flags"),
                "MESSAGE_FLAGS_INVALID",
                f"Only flags {allowed_flags} may be set here; got {flags}.",
                "limits",
                "CALLBACK_MESSAGE_FLAGS",
            )
        )
    return issues


def is_empty_message(body: dict[str, Any], files: Sequence[UploadedFile]) -> bool:
    """Discord answers 50006 "Cannot send an empty message" when nothing would be shown."""
    return not (
        _text(body.get("content")).strip()
        or body.get("embeds")
        or body.get("components")
        or body.get("attachments")
        or files
        or body.get("poll")
        or body.get("sticker_ids")
    )


# --- Autocomplete ---------------------------------------------------------------------------------

_CHOICE_TYPES: dict[int, tuple[type, ...]] = {3: (str,), 4: (int,), 10: (int, float)}
_OPTION_TYPE_NAMES = {3: "STRING", 4: "INTEGER", 10: "NUMBER"}


def check_autocomplete(data: Any, prefix: Path, *, option_type: int | None) -> list[Issue]:
    """Autocomplete results: at most 25 choices, names 1-100, string values ≤ 100, typed as the option."""
    if not isinstance(data, dict):
        return []
    choices = data.get("choices")
    if not isinstance(choices, list):
        return []
    issues: list[Issue] = []
    if len(choices) > L.AUTOCOMPLETE_CHOICES_MAX:
        issues.append(_too_long((*prefix, "choices"), L.AUTOCOMPLETE_CHOICES_MAX, "AUTOCOMPLETE_CHOICES_MAX"))
    issues += _check_choices(choices, (*prefix, "choices"), option_type)
    return issues


def _check_choices(choices: list[Any], p: Path, option_type: int | None) -> list[Issue]:
    issues: list[Issue] = []
    for i, choice in enumerate(choices):
        if not isinstance(choice, dict):
            continue
        name, value = choice.get("name"), choice.get("value")
        if isinstance(name, str) and not L.CHOICE_NAME_MIN <= len(name) <= L.CHOICE_NAME_MAX:
            issues.append(_bad_length((*p, i, "name"), L.CHOICE_NAME_MIN, L.CHOICE_NAME_MAX, "CHOICE_NAME_MAX"))
        if isinstance(value, str) and len(value) > L.CHOICE_VALUE_MAX:
            issues.append(_too_long((*p, i, "value"), L.CHOICE_VALUE_MAX, "CHOICE_VALUE_MAX"))
        wanted = _CHOICE_TYPES.get(option_type or 0)
        if wanted and (isinstance(value, bool) or not isinstance(value, wanted)):
            issues.append(
                Issue(
                    (*p, i, "value"),
                    "BASE_TYPE_INVALID",
                    f"Choice value {value!r} does not match the option type {_OPTION_TYPE_NAMES[option_type or 0]}.",
                    "limits",
                )
            )
    return issues


# --- Application commands -------------------------------------------------------------------------


def _localized_max(obj: dict[str, Any], key: str) -> int:
    base = len(_text(obj.get(key)))
    locs = obj.get(f"{key}_localizations") or {}
    return max([base, *(len(_text(v)) for v in locs.values())]) if isinstance(locs, dict) else base


def command_size(cmd: dict[str, Any]) -> int:
    """Characters counted towards the per-command size limit (longest localization of each field)."""

    def options_size(options: Any) -> int:
        total = 0
        for opt in options or []:
            if not isinstance(opt, dict):
                continue
            total += _localized_max(opt, "name") + _localized_max(opt, "description")
            for ch in opt.get("choices") or []:
                if isinstance(ch, dict):
                    total += _localized_max(ch, "name") + len(str(ch.get("value", "")))
            total += options_size(opt.get("options"))
        return total

    return _localized_max(cmd, "name") + _localized_max(cmd, "description") + options_size(cmd.get("options"))


def _check_name(name: Any, p: Path) -> list[Issue]:
    if isinstance(name, str) and not L.COMMAND_NAME_RE.match(name):
        return [
            Issue(
                (*p, "name"),
                "APPLICATION_COMMAND_INVALID_NAME",
                f"Command name is invalid: {name!r} must match {L.COMMAND_NAME_RE.pattern} (lower case)",
                "limits",
                "COMMAND_NAME_RE",
            )
        ]
    return []


def _check_description(obj: dict[str, Any], p: Path) -> list[Issue]:
    desc = obj.get("description")
    if not isinstance(desc, str) or not L.DESCRIPTION_MIN <= len(desc) <= L.DESCRIPTION_MAX:
        return [_bad_length((*p, "description"), L.DESCRIPTION_MIN, L.DESCRIPTION_MAX, "DESCRIPTION_MAX")]
    return []


def _check_options(options: Any, p: Path, *, level: str) -> list[Issue]:
    """One array of options; ``level`` is "command", "group" or "subcommand" for nesting rules."""
    if not isinstance(options, list):
        return []
    issues: list[Issue] = []
    op = (*p, "options")
    if len(options) > L.OPTIONS_MAX:
        issues.append(_too_long(op, L.OPTIONS_MAX, "OPTIONS_MAX"))
    names: set[str] = set()
    seen_optional = False
    kinds = {o.get("type") for o in options if isinstance(o, dict)}
    if kinds & {1, 2} and kinds - {1, 2}:
        issues.append(
            Issue(
                op,
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Sub-command and sub-command group option types are mutually exclusive to all other types",
                "limits",
            )
        )
    for i, opt in enumerate(options):
        if not isinstance(opt, dict):
            continue
        q = (*op, i)
        kind = opt.get("type")
        issues += _check_name(opt.get("name"), q)
        issues += _check_description(opt, q)
        name = opt.get("name")
        if isinstance(name, str):
            if name in names:
                issues.append(
                    Issue(
                        (*q, "name"),
                        "APPLICATION_COMMAND_OPTION_NAME_DUPLICATED",
                        "Option names must be unique",
                        "limits",
                    )
                )
            names.add(name)
        if (level == "group" and kind != 1) or (level == "subcommand" and kind in (1, 2)):
            issues.append(
                Issue((*q, "type"), "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Invalid nesting of options", "limits")
            )
        if kind not in (1, 2):
            if opt.get("required"):
                if seen_optional:
                    issues.append(
                        Issue(
                            (*q, "required"),
                            "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                            "Required options must be placed before non-required options",
                            "limits",
                            "required-before-optional",
                        )
                    )
            else:
                seen_optional = True
        choices = opt.get("choices")
        if isinstance(choices, list):
            if len(choices) > L.CHOICES_MAX:
                issues.append(_too_long((*q, "choices"), L.CHOICES_MAX, "CHOICES_MAX"))
            issues += _check_choices(choices, (*q, "choices"), kind if isinstance(kind, int) else None)
            if opt.get("autocomplete") and choices:
                issues.append(
                    Issue(
                        (*q, "autocomplete"),
                        "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                        "Autocomplete cannot be set to true if choices are present",
                        "limits",
                    )
                )
        if kind == 2:
            issues += _check_options(opt.get("options"), q, level="group")
        elif kind == 1:
            issues += _check_options(opt.get("options"), q, level="subcommand")
    return issues


def check_command(cmd: Any, p: Path = ()) -> list[Issue]:
    """One command of a sync: naming, descriptions, options, size."""
    if not isinstance(cmd, dict):
        return []
    kind = cmd.get("type") or 1
    issues: list[Issue] = []
    if kind == 1:
        issues += _check_name(cmd.get("name"), p)
        issues += _check_description(cmd, p)
        issues += _check_options(cmd.get("options"), p, level="command")
        size = command_size(cmd)
        if size > L.COMMAND_TOTAL_CHARS_MAX:
            issues.append(
                Issue(
                    p,
                    "APPLICATION_COMMAND_TOO_LARGE",
                    f"Command exceeds maximum size ({L.COMMAND_TOTAL_CHARS_MAX}): {size}",
                    "limits",
                    "COMMAND_TOTAL_CHARS_MAX",
                )
            )
    elif kind in (2, 3):
        name = cmd.get("name")
        if isinstance(name, str) and not 1 <= len(name) <= L.CONTEXT_MENU_NAME_MAX:
            issues.append(_bad_length((*p, "name"), 1, L.CONTEXT_MENU_NAME_MAX, "CONTEXT_MENU_NAME_MAX"))
        if cmd.get("description") not in (None, ""):
            issues.append(Issue((*p, "description"), "BASE_TYPE_MAX_LENGTH", "Must be 0 or fewer in length.", "limits"))
        if cmd.get("options"):
            issues.append(Issue((*p, "options"), "BASE_TYPE_MAX_LENGTH", "Must be 0 or fewer in length.", "limits"))
    return issues


def check_commands(commands: Any) -> list[Issue]:
    """A bulk overwrite: every command, unique names per type, and the per-type counts."""
    if not isinstance(commands, list):
        return []
    issues: list[Issue] = []
    seen: dict[tuple[int, str], int] = {}
    counts: dict[int, int] = {}
    for i, cmd in enumerate(commands):
        issues += check_command(cmd, (i,))
        if not isinstance(cmd, dict):
            continue
        kind = cmd.get("type") or 1
        counts[kind] = counts.get(kind, 0) + 1
        key = (kind, str(cmd.get("name")))
        if key in seen:
            issues.append(
                Issue(
                    (i, "name"),
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique (also at index {seen[key]})",
                    "limits",
                )
            )
        seen.setdefault(key, i)
    for kind, limit in ((1, L.CHAT_INPUT_COMMANDS_MAX), (2, L.USER_COMMANDS_MAX), (3, L.MESSAGE_COMMANDS_MAX)):
        if counts.get(kind, 0) > limit:
            issues.append(_too_long((), limit, "COMMANDS_MAX"))
    return issues


# --- Modals ---------------------------------------------------------------------------------------


def _check_text_input(comp: dict[str, Any], p: Path, *, labelled: bool, seen: set[str]) -> list[Issue]:
    """One text input of a modal: custom_id, label (unless a Label component carries it), length bounds,
    placeholder and pre-filled value."""
    issues: list[Issue] = []
    custom_id = comp.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        issues.append(Issue((*p, "custom_id"), "BASE_TYPE_REQUIRED", "This field is required", "limits"))
    else:
        if len(custom_id) > L.CUSTOM_ID_MAX:
            issues.append(_too_long((*p, "custom_id"), L.CUSTOM_ID_MAX, "CUSTOM_ID_MAX"))
        if custom_id in seen:
            issues.append(
                Issue(
                    (*p, "custom_id"),
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                    "Component custom id cannot be duplicated",
                    "limits",
                )
            )
        seen.add(custom_id)
    label = comp.get("label")
    if not labelled and not (isinstance(label, str) and label):
        issues.append(Issue((*p, "label"), "BASE_TYPE_REQUIRED", "This field is required", "limits"))
    if isinstance(label, str) and len(label) > L.TEXT_INPUT_LABEL_MAX:
        issues.append(_too_long((*p, "label"), L.TEXT_INPUT_LABEL_MAX, "TEXT_INPUT_LABEL_MAX"))
    low, high = comp.get("min_length"), comp.get("max_length")
    if isinstance(low, int) and not L.TEXT_INPUT_MIN_LENGTH_LOW <= low <= L.TEXT_INPUT_LENGTH_HIGH:
        issues.append(_range((*p, "min_length"), L.TEXT_INPUT_MIN_LENGTH_LOW, L.TEXT_INPUT_LENGTH_HIGH))
    if isinstance(high, int) and not L.TEXT_INPUT_MAX_LENGTH_LOW <= high <= L.TEXT_INPUT_LENGTH_HIGH:
        issues.append(_range((*p, "max_length"), L.TEXT_INPUT_MAX_LENGTH_LOW, L.TEXT_INPUT_LENGTH_HIGH))
    if isinstance(low, int) and isinstance(high, int) and low > high:
        issues.append(
            Issue((*p, "min_length"), "BASE_TYPE_BAD_INT", "min_length must not exceed max_length.", "limits")
        )
    if len(_text(comp.get("placeholder"))) > L.TEXT_INPUT_PLACEHOLDER_MAX:
        issues.append(_too_long((*p, "placeholder"), L.TEXT_INPUT_PLACEHOLDER_MAX, "TEXT_INPUT_PLACEHOLDER_MAX"))
    value_limit = high if isinstance(high, int) else L.TEXT_INPUT_LENGTH_HIGH
    if len(_text(comp.get("value"))) > min(value_limit, L.TEXT_INPUT_LENGTH_HIGH):
        issues.append(_too_long((*p, "value"), min(value_limit, L.TEXT_INPUT_LENGTH_HIGH), "TEXT_INPUT_LENGTH_HIGH"))
    return issues


def _range(path: Path, low: int, high: int) -> Issue:
    return Issue(path, "NUMBER_TYPE_OUT_OF_RANGE", f"Must be between {low} and {high}.", "limits")


def _check_modal_component(comp: Any, p: Path, seen: set[str]) -> list[Issue]:
    """A top-level modal component: an action row holding one text input (the legacy layout discord.py
    still sends), a Label wrapping an input, or a text display."""
    if not isinstance(comp, dict):
        return []
    kind = comp.get("type")
    if kind == 1:
        children = comp.get("components") or []
        issues: list[Issue] = []
        if len(children) != 1:
            issues.append(
                Issue((*p, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 1 in length.", "limits")
            )
        for j, child in enumerate(children):
            if isinstance(child, dict) and child.get("type") == 4:
                issues += _check_text_input(child, (*p, "components", j), labelled=False, seen=seen)
        return issues
    if kind == 18:
        issues = []
        label = comp.get("label")
        if not isinstance(label, str) or not 1 <= len(label) <= L.TEXT_INPUT_LABEL_MAX:
            issues.append(_bad_length((*p, "label"), 1, L.TEXT_INPUT_LABEL_MAX, "TEXT_INPUT_LABEL_MAX"))
        if len(_text(comp.get("description"))) > L.LABEL_DESCRIPTION_MAX:
            issues.append(_too_long((*p, "description"), L.LABEL_DESCRIPTION_MAX, "LABEL_DESCRIPTION_MAX"))
        inner = comp.get("component")
        if isinstance(inner, dict) and inner.get("type") == 4:
            if inner.get("label") is not None:  # "label is deprecated … use a Label component's label"
                issues.append(
                    Issue((*p, "component", "label"), "BASE_TYPE_MAX_LENGTH", "Must be 0 or fewer in length.", "limits")
                )
            issues += _check_text_input(inner, (*p, "component"), labelled=True, seen=seen)
        return issues
    return []


def check_modal(data: Any, prefix: Path = ()) -> list[Issue]:
    """A MODAL callback's data: title 1-45, custom_id ≤ 100, 1-5 components, and every text input's
    label (≤ 45), length bounds (min 0-4000, max 1-4000, min ≤ max), placeholder and value."""
    if not isinstance(data, dict):
        return []
    issues: list[Issue] = []
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= L.MODAL_TITLE_MAX:
        issues.append(_bad_length((*prefix, "title"), 1, L.MODAL_TITLE_MAX, "MODAL_TITLE_MAX"))
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= L.CUSTOM_ID_MAX:
        issues.append(_bad_length((*prefix, "custom_id"), 1, L.CUSTOM_ID_MAX, "CUSTOM_ID_MAX"))
    components = data.get("components")
    if not isinstance(components, list) or not L.MODAL_COMPONENTS_MIN <= len(components) <= L.MODAL_COMPONENTS_MAX:
        issues.append(
            _bad_length((*prefix, "components"), L.MODAL_COMPONENTS_MIN, L.MODAL_COMPONENTS_MAX, "MODAL_COMPONENTS_MAX")
        )
    seen: set[str] = set()
    for i, comp in enumerate(components if isinstance(components, list) else []):
        issues += _check_modal_component(comp, (*prefix, "components", i), seen)
    return issues


def modal_inputs(modal: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
    """The text inputs of a modal the bot sent, each with the label the user sees (its own or its
    Label component's), in order."""
    out: list[tuple[dict[str, Any], str | None]] = []
    for comp in modal.get("components") or []:
        if not isinstance(comp, dict):
            continue
        if comp.get("type") == 1:
            out += [
                (c, c.get("label")) for c in comp.get("components") or [] if isinstance(c, dict) and c.get("type") == 4
            ]
        elif comp.get("type") == 18 and isinstance(comp.get("component"), dict) and comp["component"].get("type") == 4:
            out.append((comp["component"], comp.get("label")))
    return out
