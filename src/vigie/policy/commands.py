"""``vigie policy show`` and ``vigie policy test POLICY --on FILE`` (the dry run).

A policy change is tried on recorded traffic before it goes live: the command replays the
file through the detectors and both policies and prints what would change, in counts and
examples. An invalid policy file exits with status 2 and names the line to fix.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from vigie.conversations import ConversationFormatError, read_conversations
from vigie.policy.engine import Policy, default_policy_text, load_policy
from vigie.policy.loader import PolicyError
from vigie.policy.replay import Comparison, Difference, Tally
from vigie.settings import Settings, load_settings

policy_app = typer.Typer(no_args_is_help=True, help="Inspect and dry-run child-safety policies.")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _load(path: str | None, settings: Settings) -> Policy:
    try:
        return load_policy(path, settings.detection)
    except PolicyError as exc:
        raise _fail(str(exc)) from None


@policy_app.command("show")
def show(
    current: Annotated[
        bool,
        typer.Option(
            help="Show the policy configured by VIGIE_POLICY_FILE instead of the default."
        ),
    ] = False,
    rules: Annotated[bool, typer.Option(help="One line per rule instead of the file.")] = False,
) -> None:
    """Print the default policy (a valid policy file: redirect it to start your own)."""
    settings = load_settings()
    path = settings.policy_file if current else None
    policy = _load(path, settings)
    if not rules:
        typer.echo(policy.document.text if path else default_policy_text(), nl=False)
        return
    for rule in policy.document.rules:
        then = rule.then
        acts = ",".join(a.value for a in then.actions) or "-"
        prio = f" p{then.case_priority}" if then.case_priority else ""
        typer.echo(f"{rule.name:36} {then.decision.value:6} {acts}{prio}")


@policy_app.command("test")
def test(
    policy: Annotated[str, typer.Argument(help="The policy file to try.")],
    on: Annotated[Path, typer.Option("--on", help="Conversation file (JSON Lines).")],
    against: Annotated[
        str | None,
        typer.Option(
            help="Policy to compare with; default: the current one (VIGIE_POLICY_FILE or shipped)."
        ),
    ] = None,
    examples: Annotated[int, typer.Option(help="How many differing messages to show.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print the comparison as JSON.")] = False,
) -> None:
    """Replay a conversation file through POLICY and the current policy; print the difference."""
    settings = load_settings()
    after = _load(policy, settings)
    before = _load(against or settings.policy_file, settings)
    if not on.is_file():
        raise _fail(f"{on}: no such file")
    from vigie.detect.registry import build_text_detectors
    from vigie.policy.replay import compare

    try:
        records = list(read_conversations(on))
    except ConversationFormatError as exc:
        raise _fail(f"{on}, {exc}") from None
    result = compare(records, build_text_detectors(settings), before, after, examples)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    typer.echo(
        render(result, _label(before, against or settings.policy_file), _label(after, policy))
    )


def _label(policy: Policy, path: str | None) -> str:
    return f"{policy.name} ({path or 'shipped default'})"


def _table(
    title: str, before: dict[str, int], after: dict[str, int], order: list[str] | None = None
) -> list[str]:
    keys = order or sorted(set(before) | set(after))
    lines = [f"{title:36} {'before':>8} {'after':>8} {'change':>8}"]
    for key in keys:
        b, a = before.get(key, 0), after.get(key, 0)
        change = f"{a - b:+d}" if a != b else ""
        lines.append(f"  {key:34} {b:>8} {a:>8} {change:>8}")
    return lines


def _outcome(d: dict[str, object]) -> str:
    actions = ", ".join(d["actions"]) if isinstance(d["actions"], list) else ""
    prio = f" p{d['case_priority']}" if d["case_priority"] else ""
    rules = ", ".join(d["rules"]) if isinstance(d["rules"], list) else ""
    return f"{d['decision']} [{actions}]{prio}  (rules: {rules or '-'})"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _example(diff: Difference) -> list[str]:
    d = diff.to_dict()
    text = diff.text if len(diff.text) <= 80 else diff.text[:77] + "..."
    label = f" ({diff.label})" if diff.label else ""
    return [
        f"  {diff.conversation} #{diff.index}{label} {diff.sender}: {_quote(text)}"
        f"  risk {diff.risk:.2f} [{', '.join(diff.categories)}]",
        f"      before: {_outcome(d['before'])}",
        f"      after:  {_outcome(d['after'])}",
    ]


def render(result: Comparison, before: str, after: str) -> str:
    """The human-readable comparison printed by ``vigie policy test``."""
    labels = ", ".join(f"{k} {v}" for k, v in sorted(result.labels.items()))
    lines = [
        f"Replayed {result.conversations} conversations, {result.messages} messages ({labels})",
        f"before: {before}",
        f"after:  {after}",
        "",
    ]
    b, a = result.before, result.after
    lines += _table(
        "decisions (messages)", b.decisions, a.decisions, ["allow", "warn", "hold", "block"]
    )
    lines += _table("actions (messages)", b.actions, a.actions)
    lines += _table("conversations with a case, by label", b.cases_by_label, a.cases_by_label)
    lines += _table("conversations with any action, by label", b.acted_by_label, a.acted_by_label)
    lines += _rules(b, a)
    lines.append("")
    if not result.differing:
        lines.append("No message is decided differently.")
        return "\n".join(lines)
    shown = len(result.examples)
    lines.append(f"{result.differing} messages decided differently; first {shown}:")
    for diff in result.examples:
        lines += _example(diff)
    return "\n".join(lines)


def _rules(b: Tally, a: Tally) -> list[str]:
    return _table("rules matched (messages)", dict(b.rules), dict(a.rules))


def register(app: typer.Typer) -> None:
    """Attach ``vigie policy ...`` to the ``vigie`` app."""
    app.add_typer(policy_app, name="policy")
