"""The SLA-as-code file (or folder of files) read into a ``duly.core.agreements.SlaConfig``.

This is where a person's YAML meets the engine, so it is strict and talkative: every problem in
the whole config is collected before anything is refused, each located by file, line and dotted
field path (``agreements[0].policies[1].targets.first_reply.within.high``) with a reason that
says what to write instead. Besides the shape of each field it catches the mistakes that would
otherwise fail silently at run time: a policy that can never match because an earlier one always
does, an OLA promising the team more time than the SLA it backs gives the customer, a reference
to a calendar, metric, priority or agreement that does not exist.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, cast, get_args

from duly.config.calendars import ALWAYS_OPEN, calendar_from_spec
from duly.config.errors import ConfigError, Problem
from duly.config.yaml_lines import LinedYaml, load_lined_yaml
from duly.core.agreements import (
    BUILTIN_METRICS,
    Agreement,
    AgreementKind,
    AgreementLevel,
    AgreementStatus,
    AlertRules,
    Credits,
    CreditTier,
    CustomMetric,
    Escalation,
    Fee,
    OnChange,
    Party,
    Period,
    Policy,
    RateTarget,
    SlaConfig,
    Target,
)
from duly.core.agreements import Warning as Threshold
from duly.core.calendar import Calendar
from duly.core.conditions import All, AnyOf, Condition, ConditionError, Not, Rule, parse_condition
from duly.core.durations import format_duration, parse_duration
from duly.core.events import STATUSES
from duly.core.wording import did_you_mean, kind_of

__all__ = ["check_config", "load_config", "load_config_text"]

_TOP_KEYS: Final = ("priorities", "statuses", "calendars", "metrics", "agreements")
_METRIC_KEYS: Final = ("start", "stop", "pause", "repeat")
_AGREEMENT_KEYS: Final = (
    "id",
    "name",
    "kind",
    "level",
    "status",
    "parties",
    "services",
    "description",
    "owner",
    "effective",
    "review",
    "scope",
    "team",
    "supports",
    "policies",
    "alerts",
    "credits",
)
_PARTY_KEYS: Final = ("name", "role", "contact")
_EFFECTIVE_KEYS: Final = ("from", "to")
_POLICY_KEYS: Final = ("id", "name", "when", "targets", "rate_targets", "alerts")
_ALERT_KEYS: Final = ("warning", "breach", "escalations")
_ESCALATION_KEYS: Final = ("after", "notify")
_TARGET_KEYS: Final = ("within", "calendar", "warn", "pause_on", "on_change", "max_pause")
_RATE_KEYS: Final = ("metric", "percent", "within", "period", "calendar")
_CREDIT_KEYS: Final = ("fee", "tiers")
_FEE_KEYS: Final = ("amount", "currency")
_TIER_KEYS: Final = ("metric", "below", "credit")
_CURRENCY: Final = re.compile(r"[A-Z]{3}")
_KINDS: Final[tuple[str, ...]] = get_args(AgreementKind)
_LEVELS: Final[tuple[str, ...]] = get_args(AgreementLevel)
_AGREEMENT_STATUSES: Final[tuple[str, ...]] = get_args(AgreementStatus)
_ON_CHANGE: Final[tuple[str, ...]] = get_args(OnChange)
_PERIODS: Final[tuple[str, ...]] = get_args(Period)
#: Kinds of agreement that back others and so must be at least as strict as what they support.
_BACKING_KINDS: Final = ("ola", "uc")
_ID: Final = re.compile(r"[a-z0-9_-]+")
_REVIEW: Final = re.compile(r"(\d+)\s*(months?|years?)", re.IGNORECASE)
_REVIEW_WORDS: Final = {"monthly": 1, "quarterly": 3, "yearly": 12, "annually": 12}
_ANY_PRIORITY: Final = "*"
_FILE_SUFFIXES: Final = (".yaml", ".yml")


def load_config(path: Path) -> SlaConfig:
    """The config in ``path``: one YAML file, or every ``*.yaml``/``*.yml`` file of a folder.

    A folder's files are merged in name order: their calendars, metrics, statuses and
    agreements together, a name defined twice being an error. Raises ConfigError listing every
    problem found, each with its file and line.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file() and p.suffix.lower() in _FILE_SUFFIXES and not p.name.startswith(".")
        )
        if not files:
            raise ConfigError(
                Problem("", "the folder holds no *.yaml or *.yml files", file=str(path))
            )
    elif path.exists():
        files = [path]
    else:
        raise ConfigError(Problem("", "no such file or folder", file=str(path)))
    texts: list[tuple[str, str]] = []
    problems: list[Problem] = []
    for file in files:
        try:
            texts.append((str(file), file.read_text(encoding="utf-8")))
        except OSError as exc:
            problems.append(Problem("", f"cannot read file: {exc.strerror}", file=str(file)))
        except UnicodeDecodeError:
            problems.append(Problem("", "cannot read file: it is not UTF-8 text", file=str(file)))
    if problems:
        raise ConfigError(problems)
    return _load(texts)


def load_config_text(text: str, source: str = "<config>") -> SlaConfig:
    """The config in one YAML text; ``source`` names it in problems (a file name, an upload)."""
    return _load([(source, text)])


def check_config(path: Path) -> list[Problem]:
    """Every problem of the config at ``path``, in file and line order; empty when it is usable."""
    try:
        load_config(path)
    except ConfigError as exc:
        return list(exc.problems)
    return []


# --- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """One parsed file: problems found in it are located through its line map."""

    file: str
    doc: LinedYaml

    def where(self, path: str, other: _Source | None = None) -> str:
        """Where ``path`` is, as ``line 12`` when ``other`` is this same file, else ``FILE:12``."""
        line = self.doc.line_of(path)
        if other is not None and other.file == self.file:
            return f"line {line}"
        return f"{self.file}:{line}"


class _Problems:
    """Collects problems, each located by its source's line for the path."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, src: _Source, path: str, reason: str) -> None:
        self.items.append(Problem(path, reason, file=src.file, line=src.doc.line_of(path)))

    def extend(self, src: _Source, problems: Sequence[Problem]) -> None:
        for problem in problems:
            self.add(src, problem.field, problem.reason)


@dataclass
class _Vocabulary:
    """What the first pass learned that agreements refer to: names of calendars and metrics."""

    priorities: tuple[str, ...] = ()
    calendars: set[str] = field(default_factory=lambda: {ALWAYS_OPEN})
    metrics: set[str] = field(default_factory=lambda: set(BUILTIN_METRICS))

    @property
    def ranks(self) -> dict[str, int]:
        return {name: rank for rank, name in enumerate(self.priorities)}


@dataclass
class _TargetInfo:
    """Where a target's ``within`` was written, for problems found after it was built."""

    path: str
    scalar: bool


@dataclass
class _PolicyInfo:
    path: str
    policy: Policy
    when_ok: bool
    targets: dict[str, _TargetInfo] = field(default_factory=dict)


@dataclass
class _AgreementInfo:
    src: _Source
    path: str
    agreement: Agreement
    id_ok: bool
    policies: list[_PolicyInfo]
    supports_paths: list[str]


def _load(texts: Sequence[tuple[str, str]]) -> SlaConfig:
    sources: list[_Source] = []
    syntax: list[Problem] = []
    for name, text in texts:
        try:
            sources.append(_Source(name, load_lined_yaml(text, name)))
        except ConfigError as exc:
            syntax.extend(exc.problems)
    if syntax:
        raise ConfigError(syntax)
    digest = hashlib.sha256("\0".join(text for _, text in texts).encode("utf-8")).hexdigest()
    problems = _Problems()
    config = _build(sources, problems, digest)
    if problems.items:
        order = {src.file: i for i, src in enumerate(sources)}
        unique = list(dict.fromkeys(problems.items))
        unique.sort(key=lambda p: (order.get(p.file or "", -1), p.line or 0))
        raise ConfigError(unique)
    return config


def _build(sources: Sequence[_Source], problems: _Problems, version: str) -> SlaConfig:
    """Three passes: gather every file's sections, build what they name, then check across."""
    sections = _Sections()
    for src in sources:
        sections.read(problems, src)
    vocab = sections.vocab

    calendars: dict[str, Calendar] = {}
    for name, (src, spec) in sections.calendar_specs.items():
        vocab.calendars.add(name)
        try:
            calendars[name] = calendar_from_spec(spec, name=name, field=f"calendars.{name}")
        except ConfigError as exc:
            problems.extend(src, exc.problems)

    custom_metrics: dict[str, CustomMetric] = {}
    for name, (src, spec) in sections.metric_specs.items():
        metric = _custom_metric(problems, src, name, spec, vocab)
        if metric is not None:
            custom_metrics[name] = metric
        if name not in BUILTIN_METRICS:
            vocab.metrics.add(name)

    infos = [_agreement(problems, src, path, raw, vocab) for src, path, raw in sections.agreements]
    _check_agreement_ids(problems, infos)
    _check_supports(problems, infos, vocab)
    for info in infos:
        _check_policy_order(problems, info)

    return SlaConfig(
        calendars=MappingProxyType(calendars),
        agreements=tuple(info.agreement for info in infos),
        statuses=MappingProxyType(sections.statuses),
        priorities=vocab.priorities,
        custom_metrics=MappingProxyType(custom_metrics),
        version=version,
    )


@dataclass
class _Sections:
    """The first pass: every file's sections gathered, so that any file may refer to any other.

    A name defined in two files is reported here, at its second definition, with the first's
    place; nothing is built yet because an agreement may use a calendar from a later file.
    """

    vocab: _Vocabulary = field(default_factory=_Vocabulary)
    statuses: dict[str, str] = field(default_factory=dict)
    calendar_specs: dict[str, tuple[_Source, Any]] = field(default_factory=dict)
    metric_specs: dict[str, tuple[_Source, Any]] = field(default_factory=dict)
    agreements: list[tuple[_Source, str, Any]] = field(default_factory=list)
    priorities_at: _Source | None = None
    status_at: dict[str, _Source] = field(default_factory=dict)

    def read(self, problems: _Problems, src: _Source) -> None:
        for dup in src.doc.duplicates:
            problems.add(
                src,
                dup.path,
                f"given twice in one mapping (first on line {dup.first_line}); "
                "YAML keeps only the last",
            )
        document = src.doc.data
        if document is None:  # an empty file
            return
        if not isinstance(document, Mapping):
            problems.add(
                src,
                "",
                f"the file must be a mapping of {', '.join(_TOP_KEYS)}, got {kind_of(document)}",
            )
            return
        _unknown_keys(problems, src, document, "", _TOP_KEYS)
        if "priorities" in document:
            if self.priorities_at is not None:
                first = self.priorities_at.where("priorities", src)
                problems.add(src, "priorities", f"already given at {first}; give them once")
            else:
                self.priorities_at = src
                self.vocab.priorities = _priorities(problems, src, document["priorities"])
        for source_status, target in _entries(problems, src, document, "statuses").items():
            where = f"statuses.{source_status}"
            if target not in STATUSES:
                problems.add(src, where, _unknown("status", target, STATUSES))
            elif source_status in self.status_at:
                first = self.status_at[source_status].where(where, src)
                problems.add(src, where, f"already mapped at {first}")
            else:
                self.status_at[source_status] = src
                self.statuses[source_status] = target
        for name, spec in _entries(problems, src, document, "calendars").items():
            where = f"calendars.{name}"
            if name in self.calendar_specs:
                first = self.calendar_specs[name][0].where(where, src)
                problems.add(src, where, f"calendar already defined at {first}")
            elif name == ALWAYS_OPEN and spec != ALWAYS_OPEN:
                problems.add(
                    src,
                    where,
                    f"'{ALWAYS_OPEN}' is built in and always open; give this calendar another name",
                )
            else:
                self.calendar_specs[name] = (src, spec)
        for name, spec in _entries(problems, src, document, "metrics").items():
            where = f"metrics.{name}"
            if name in self.metric_specs:
                first = self.metric_specs[name][0].where(where, src)
                problems.add(src, where, f"metric already defined at {first}")
            else:
                self.metric_specs[name] = (src, spec)
        raw = document.get("agreements")
        if raw is not None and not isinstance(raw, list):
            problems.add(src, "agreements", f"must be a list of agreements, got {kind_of(raw)}")
        elif raw:
            self.agreements.extend((src, f"agreements[{i}]", item) for i, item in enumerate(raw))


def _entries(
    problems: _Problems, src: _Source, document: Mapping[Any, Any], key: str
) -> dict[str, Any]:
    """A top-level section that maps names to specs, with its names as text."""
    raw = document.get(key)
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.add(src, key, f"must be a mapping of names, got {kind_of(raw)}")
        return {}
    entries: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(name, bool) or not isinstance(name, str | int):
            problems.add(
                src,
                f"{key}.{name}",
                "a name is text; quote it (YAML reads yes, no, on and off as booleans)",
            )
            continue
        entries[str(name)] = value
    return entries


def _priorities(problems: _Problems, src: _Source, raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        problems.add(src, "priorities", "must be a list of priority names, least urgent first")
        return ()
    names: list[str] = []
    for i, item in enumerate(raw):
        where = f"priorities[{i}]"
        if not isinstance(item, str) or not item:
            problems.add(
                src, where, f'a priority is a name, got {kind_of(item)}; quote numbers: "1"'
            )
        elif item == _ANY_PRIORITY:
            problems.add(src, where, "'*' means every other priority and cannot name one")
        elif item in names:
            problems.add(src, where, f"priority {item!r} is listed twice")
        else:
            names.append(item)
    return tuple(names)


def _custom_metric(
    problems: _Problems, src: _Source, name: str, raw: Any, vocab: _Vocabulary
) -> CustomMetric | None:
    path = f"metrics.{name}"
    if name in BUILTIN_METRICS:
        problems.add(src, path, f"{name!r} is a built-in metric; give this one another name")
        return None
    if not _ID.fullmatch(name):
        problems.add(src, path, "a metric name is lowercase letters, digits, _ and -")
    if not isinstance(raw, Mapping):
        problems.add(
            src, path, f"must be a mapping of start, stop, pause, repeat, got {kind_of(raw)}"
        )
        return None
    _unknown_keys(problems, src, raw, path, _METRIC_KEYS)
    conditions: dict[str, Condition | None] = {}
    ok = True
    for key in ("start", "stop", "pause"):
        if key not in raw:
            if key != "pause":
                problems.add(
                    src, f"{path}.{key}", f"is required: the condition the clock {key}s on"
                )
                ok = False
            conditions[key] = None
            continue
        condition, parsed = _condition(problems, src, raw[key], path, key, vocab, events=True)
        ok = ok and parsed
        conditions[key] = condition
    repeat = raw.get("repeat", False)
    if not isinstance(repeat, bool):
        problems.add(src, f"{path}.repeat", f"must be true or false, got {kind_of(repeat)}")
        ok = False
    start, stop = conditions["start"], conditions["stop"]
    if not ok or start is None or stop is None:
        return None
    return CustomMetric(name=name, start=start, stop=stop, pause=conditions["pause"], repeat=repeat)


def _agreement(
    problems: _Problems, src: _Source, path: str, raw: Any, vocab: _Vocabulary
) -> _AgreementInfo:
    if not isinstance(raw, Mapping):
        problems.add(src, path, f"an agreement is a mapping with an id, got {kind_of(raw)}")
        return _AgreementInfo(src, path, Agreement(id=""), False, [], [])
    _unknown_keys(problems, src, raw, path, _AGREEMENT_KEYS)
    agreement_id = _identifier(problems, src, raw, path, "agreement")
    kind = _choice(problems, src, raw, path, "kind", _KINDS, "sla")
    team = _text(problems, src, raw, path, "team") or None
    if kind == "ola" and team is None:
        problems.add(
            src,
            f"{path}.team",
            "is required for an OLA: the team (ticket group) whose time it measures",
        )
    effective_from, effective_to = _effective(
        problems, src, raw.get("effective"), f"{path}.effective"
    )
    scope, _ = _condition(problems, src, raw.get("scope"), path, "scope", vocab, events=False)
    supports = _names(problems, src, raw, path, "supports")
    policies = _policies(problems, src, raw.get("policies"), f"{path}.policies", vocab)
    measured = {t.metric for info in policies for t in info.policy.targets}
    credits = _credits(problems, src, raw.get("credits"), f"{path}.credits", vocab, measured)
    agreement = Agreement(
        id=agreement_id or "",
        name=_text(problems, src, raw, path, "name"),
        kind=cast(AgreementKind, kind),
        level=cast(AgreementLevel, _choice(problems, src, raw, path, "level", _LEVELS, "customer")),
        status=cast(
            AgreementStatus,
            _choice(problems, src, raw, path, "status", _AGREEMENT_STATUSES, "active"),
        ),
        parties=_parties(problems, src, raw.get("parties"), f"{path}.parties"),
        services=tuple(name for name, _ in _names(problems, src, raw, path, "services")),
        description=_text(problems, src, raw, path, "description"),
        owner=_text(problems, src, raw, path, "owner"),
        effective_from=effective_from,
        effective_to=effective_to,
        review_months=_review(problems, src, raw.get("review"), f"{path}.review"),
        scope=scope,
        team=team,
        supports=tuple(name for name, _ in supports),
        policies=tuple(info.policy for info in policies),
        alerts=_alerts(problems, src, raw.get("alerts"), f"{path}.alerts"),
        credits=credits,
    )
    return _AgreementInfo(
        src,
        path,
        agreement,
        agreement_id is not None,
        policies,
        [where for _, where in supports],
    )


def _policies(
    problems: _Problems, src: _Source, raw: Any, path: str, vocab: _Vocabulary
) -> list[_PolicyInfo]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.add(src, path, f"must be a list of policies, got {kind_of(raw)}")
        return []
    infos: list[_PolicyInfo] = []
    first_at: dict[str, str] = {}
    for i, item in enumerate(raw):
        where = f"{path}[{i}]"
        if not isinstance(item, Mapping):
            problems.add(src, where, f"a policy is a mapping with an id, got {kind_of(item)}")
            continue
        _unknown_keys(problems, src, item, where, _POLICY_KEYS)
        policy_id = _identifier(problems, src, item, where, "policy")
        if policy_id is not None:
            if policy_id in first_at:
                problems.add(
                    src,
                    f"{where}.id",
                    f"duplicate policy id {policy_id!r} in this agreement; first at "
                    f"{src.where(first_at[policy_id], src)}",
                )
            else:
                first_at[policy_id] = where
        when, when_ok = _condition(
            problems, src, item.get("when"), where, "when", vocab, events=False
        )
        info = _PolicyInfo(where, Policy(id=policy_id or ""), when_ok)
        targets = _targets(problems, src, item.get("targets"), f"{where}.targets", vocab, info)
        rate_targets = _rate_targets(
            problems, src, item.get("rate_targets"), f"{where}.rate_targets", vocab
        )
        info.policy = Policy(
            id=policy_id or "",
            when=when,
            targets=targets,
            rate_targets=rate_targets,
            name=_text(problems, src, item, where, "name"),
            alerts=_alerts(problems, src, item.get("alerts"), f"{where}.alerts"),
        )
        infos.append(info)
    return infos


def _targets(
    problems: _Problems,
    src: _Source,
    raw: Any,
    path: str,
    vocab: _Vocabulary,
    info: _PolicyInfo,
) -> tuple[Target, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Mapping):
        problems.add(src, path, f"must map metrics to targets, got {kind_of(raw)}")
        return ()
    targets: list[Target] = []
    for metric, spec in raw.items():
        where = f"{path}.{metric}"
        if not _known_metric(problems, src, metric, where, vocab):
            continue
        if not isinstance(spec, Mapping):
            spec = {"within": spec}  # shorthand: `resolution: 2d`
            within_path = where
        else:
            _unknown_keys(problems, src, spec, where, _TARGET_KEYS)
            within_path = f"{where}.within"
        if "within" not in spec:
            problems.add(src, within_path, "is required: the target duration, or one per priority")
            continue
        durations = _durations(problems, src, spec["within"], within_path, vocab)
        calendar = _calendar_name(problems, src, spec, where, vocab)
        warnings = _warnings(problems, src, spec.get("warn"), f"{where}.warn")
        pause_on = _pause_on(problems, src, spec.get("pause_on"), f"{where}.pause_on")
        on_change = _choice(problems, src, spec, where, "on_change", _ON_CHANGE, "retarget")
        max_pause = None
        if spec.get("max_pause") is not None:
            max_pause = _duration(problems, src, spec["max_pause"], f"{where}.max_pause")
        if durations is None:
            continue
        info.targets[str(metric)] = _TargetInfo(
            within_path, not isinstance(spec["within"], Mapping)
        )
        targets.append(
            Target(
                metric=str(metric),
                durations=durations,
                calendar=calendar,
                warnings=warnings,
                pause_on=pause_on,
                on_change=cast(OnChange, on_change),
                max_pause=max_pause,
            )
        )
    return tuple(targets)


def _rate_targets(
    problems: _Problems, src: _Source, raw: Any, path: str, vocab: _Vocabulary
) -> tuple[RateTarget, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add(src, path, f"must be a list of rate targets, got {kind_of(raw)}")
        return ()
    rates: list[RateTarget] = []
    for i, item in enumerate(raw):
        where = f"{path}[{i}]"
        if not isinstance(item, Mapping):
            problems.add(
                src,
                where,
                f"a rate target is a mapping of metric, percent, within, got {kind_of(item)}",
            )
            continue
        _unknown_keys(problems, src, item, where, _RATE_KEYS)
        missing = [key for key in ("metric", "percent", "within") if key not in item]
        for key in missing:
            problems.add(src, f"{where}.{key}", "is required")
        metric = item.get("metric")
        metric_ok = "metric" in item and _known_metric(
            problems, src, metric, f"{where}.metric", vocab
        )
        percent = (
            _percent(problems, src, item["percent"], f"{where}.percent")
            if "percent" in item
            else None
        )
        within = (
            _durations(problems, src, item["within"], f"{where}.within", vocab)
            if "within" in item
            else None
        )
        period = _choice(problems, src, item, where, "period", _PERIODS, "month")
        calendar = _calendar_name(problems, src, item, where, vocab)
        if missing or not metric_ok or percent is None or within is None:
            continue
        rates.append(
            RateTarget(
                metric=str(metric),
                percent=percent,
                within=within,
                period=cast(Period, period),
                calendar=calendar,
            )
        )
    return tuple(rates)


def _alerts(problems: _Problems, src: _Source, raw: Any, path: str) -> AlertRules | None:
    """``{warning: [...], breach: [...], escalations: [{after, notify}, ...]}``; None if absent.

    Channel names are only checked for their form: the channels themselves are kept by the
    server, so whether one exists is known when an alert is sent, not here.
    """
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.add(
            src,
            path,
            f"must be a mapping of {', '.join(_ALERT_KEYS)}, got {kind_of(raw)}",
        )
        return None
    _unknown_keys(problems, src, raw, path, _ALERT_KEYS)
    return AlertRules(
        warning=_channels(problems, src, raw, path, "warning"),
        breach=_channels(problems, src, raw, path, "breach"),
        escalations=_escalations(problems, src, raw.get("escalations"), f"{path}.escalations"),
    )


def _channels(
    problems: _Problems, src: _Source, raw: Mapping[Any, Any], path: str, key: str
) -> tuple[str, ...]:
    """Channel names (one name alone is a list of one), each an id, none twice."""
    channels: list[str] = []
    first_at: dict[str, str] = {}
    for name, where in _names(problems, src, raw, path, key):
        if not _ID.fullmatch(name):
            problems.add(
                src,
                where,
                f"{name!r} is not a channel name: use lowercase letters, digits, _ and -",
            )
        elif name in first_at:
            problems.add(
                src,
                where,
                f"channel {name!r} is listed twice; first at {src.where(first_at[name], src)}",
            )
        else:
            first_at[name] = where
            channels.append(name)
    return tuple(channels)


def _escalations(problems: _Problems, src: _Source, raw: Any, path: str) -> tuple[Escalation, ...]:
    """Steps after a breach, each strictly later than the one before it."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add(src, path, f"must be a list of escalations, got {kind_of(raw)}")
        return ()
    escalations: list[Escalation] = []
    previous: tuple[float, str] | None = None  # the last readable step's after, and its path
    for i, item in enumerate(raw):
        where = f"{path}[{i}]"
        if not isinstance(item, Mapping):
            problems.add(
                src,
                where,
                f"an escalation is a mapping of after and notify, got {kind_of(item)}",
            )
            continue
        _unknown_keys(problems, src, item, where, _ESCALATION_KEYS)
        after: float | None = None
        if "after" not in item:
            problems.add(
                src, f"{where}.after", "is required: how long after the breach to escalate"
            )
        else:
            after = _duration(problems, src, item["after"], f"{where}.after")
        notify: tuple[str, ...] = ()
        if item.get("notify") in (None, []):
            problems.add(src, f"{where}.notify", "is required: the channels to escalate to")
        else:
            notify = _channels(problems, src, item, where, "notify")
        if after is not None and previous is not None:
            earlier, earlier_path = previous
            line = src.where(earlier_path, src)
            if after == earlier:
                problems.add(
                    src,
                    f"{where}.after",
                    f"duplicate escalation: {format_duration(after)} is also the after of "
                    f"{earlier_path.rpartition('.')[2]} ({line}); merge their notify lists",
                )
            elif after < earlier:
                problems.add(
                    src,
                    f"{where}.after",
                    f"escalations go in increasing after: {format_duration(after)} comes "
                    f"after {format_duration(earlier)} ({earlier_path.rpartition('.')[2]}, "
                    f"{line}); move it up",
                )
        if after is not None:
            if previous is None or after > previous[0]:
                previous = (after, where)
            if notify:
                escalations.append(Escalation(after=after, notify=notify))
    return tuple(escalations)


def _credits(
    problems: _Problems,
    src: _Source,
    raw: Any,
    path: str,
    vocab: _Vocabulary,
    measured: set[str],
) -> Credits | None:
    """``{fee: {amount, currency}, tiers: [{metric, below, credit}, ...]}``; None if absent.

    Tiers are read worst first and the first match applies, so for each metric ``below`` must
    rise down the list (a tier behind a higher one would never be reached) and ``credit`` must
    not: a better month owing more than a worse one is a typo, not a contract.
    """
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.add(src, path, f"must be a mapping of fee and tiers, got {kind_of(raw)}")
        return None
    _unknown_keys(problems, src, raw, path, _CREDIT_KEYS)
    fee = _fee(problems, src, raw.get("fee"), f"{path}.fee")
    items = raw.get("tiers")
    if not isinstance(items, list) or not items:
        problems.add(
            src,
            f"{path}.tiers",
            "is required: a list of {metric, below, credit}, worst first",
        )
        return None
    tiers: list[CreditTier] = []
    previous: dict[str, tuple[CreditTier, str]] = {}  # the last tier of each metric, and its path
    for i, item in enumerate(items):
        where = f"{path}.tiers[{i}]"
        if not isinstance(item, Mapping):
            problems.add(
                src, where, f"a tier is a mapping of metric, below, credit, got {kind_of(item)}"
            )
            continue
        _unknown_keys(problems, src, item, where, _TIER_KEYS)
        missing = [key for key in _TIER_KEYS if key not in item]
        for key in missing:
            problems.add(src, f"{where}.{key}", "is required")
        metric = item.get("metric")
        metric_ok = "metric" in item and _known_metric(
            problems, src, metric, f"{where}.metric", vocab
        )
        if metric_ok and metric not in measured:
            problems.add(
                src,
                f"{where}.metric",
                f"no policy of this agreement has a {metric} target, so this tier never applies",
            )
        below = (
            _percent(problems, src, item["below"], f"{where}.below") if "below" in item else None
        )
        credit = (
            _percent(problems, src, item["credit"], f"{where}.credit") if "credit" in item else None
        )
        if missing or not metric_ok or below is None or credit is None:
            continue
        tier = CreditTier(metric=str(metric), below=below, credit=credit)
        if tier.metric in previous:
            earlier, earlier_path = previous[tier.metric]
            name = f"{earlier_path.rpartition('.')[2]}, {src.where(earlier_path, src)}"
            if below <= earlier.below:
                problems.add(
                    src,
                    f"{where}.below",
                    f"tiers go worst first: below {below:g}% must come before below "
                    f"{earlier.below:g}% ({name}), because the first matching tier applies; "
                    "move it up",
                )
            elif credit > earlier.credit:
                problems.add(
                    src,
                    f"{where}.credit",
                    f"a better month owes more: {credit:g}% when below {below:g}% but "
                    f"{earlier.credit:g}% when below {earlier.below:g}% ({name})",
                )
        previous[tier.metric] = (tier, where)
        tiers.append(tier)
    return Credits(tiers=tuple(tiers), fee=fee) if tiers else None


def _fee(problems: _Problems, src: _Source, raw: Any, path: str) -> Fee | None:
    """``{amount: 12000, currency: EUR}``: the monthly fee credits are a percent of."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.add(src, path, f"must be a mapping of amount and currency, got {kind_of(raw)}")
        return None
    _unknown_keys(problems, src, raw, path, _FEE_KEYS)
    raw_amount = raw.get("amount")
    amount: float | None = None
    if isinstance(raw_amount, int | float) and not isinstance(raw_amount, bool) and raw_amount > 0:
        amount = float(raw_amount)
    else:
        problems.add(
            src, f"{path}.amount", f"must be a number more than 0, got {kind_of(raw_amount)}"
        )
    currency = raw.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        problems.add(
            src,
            f"{path}.currency",
            f"must be a three-letter currency code like EUR or USD, got {kind_of(currency)}",
        )
        return None
    return None if amount is None else Fee(amount=amount, currency=currency)


# --- field readers -----------------------------------------------------------------------------


def _unknown_keys(
    problems: _Problems, src: _Source, raw: Mapping[Any, Any], path: str, allowed: Sequence[str]
) -> None:
    for key in raw:
        if key not in allowed:
            where = f"{path}.{key}" if path else str(key)
            problems.add(
                src,
                where,
                f"unknown key{did_you_mean(key, allowed)}; expected one of {', '.join(allowed)}",
            )


def _identifier(
    problems: _Problems, src: _Source, raw: Mapping[Any, Any], path: str, what: str
) -> str | None:
    value = raw.get("id")
    if value is None:
        problems.add(src, f"{path}.id", f"is required: every {what} has an id")
        return None
    if not isinstance(value, str) or not _ID.fullmatch(value):
        problems.add(
            src,
            f"{path}.id",
            f"{value!r} is not an id: use lowercase letters, digits, _ and - (it names the "
            f"{what} in reports and URLs)",
        )
        return None
    return value


def _text(problems: _Problems, src: _Source, raw: Mapping[Any, Any], path: str, key: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        problems.add(src, f"{path}.{key}", f"must be text, got {kind_of(value)}")
        return ""
    return str(value)


def _choice(
    problems: _Problems,
    src: _Source,
    raw: Mapping[Any, Any],
    path: str,
    key: str,
    allowed: Sequence[str],
    default: str,
) -> str:
    value = raw.get(key)
    if value is None:
        return default
    if value not in allowed:
        problems.add(src, f"{path}.{key}", _unknown(key, value, allowed))
        return default
    return str(value)


def _names(
    problems: _Problems, src: _Source, raw: Mapping[Any, Any], path: str, key: str
) -> list[tuple[str, str]]:
    """A list of names (a single name is a list of one), each with its path."""
    value = raw.get(key)
    where = f"{path}.{key}"
    if value is None:
        return []
    if isinstance(value, str):
        return [(value, where)]
    if not isinstance(value, list):
        problems.add(src, where, f"must be a list of names, got {kind_of(value)}")
        return []
    names: list[tuple[str, str]] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item:
            problems.add(src, f"{where}[{i}]", f"must be a name, got {kind_of(item)}")
        else:
            names.append((item, f"{where}[{i}]"))
    return names


def _parties(problems: _Problems, src: _Source, raw: Any, path: str) -> tuple[Party, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add(src, path, f"must be a list of parties, got {kind_of(raw)}")
        return ()
    parties: list[Party] = []
    for i, item in enumerate(raw):
        where = f"{path}[{i}]"
        if isinstance(item, str) and item:
            parties.append(Party(name=item))
            continue
        if not isinstance(item, Mapping):
            problems.add(
                src,
                where,
                f"a party is a name or a mapping of name, role, contact, got {kind_of(item)}",
            )
            continue
        _unknown_keys(problems, src, item, where, _PARTY_KEYS)
        name = _text(problems, src, item, where, "name")
        if not name:
            problems.add(src, f"{where}.name", "is required: who the party is")
            continue
        parties.append(
            Party(
                name=name,
                role=_text(problems, src, item, where, "role"),
                contact=_text(problems, src, item, where, "contact"),
            )
        )
    return tuple(parties)


def _effective(
    problems: _Problems, src: _Source, raw: Any, path: str
) -> tuple[date | None, date | None]:
    """``effective: {from, to}``, either end optional; from after to is never in force."""
    if raw is None:
        return None, None
    if not isinstance(raw, Mapping):
        problems.add(src, path, f"must be a mapping of from and to dates, got {kind_of(raw)}")
        return None, None
    _unknown_keys(problems, src, raw, path, _EFFECTIVE_KEYS)
    start = _date(problems, src, raw.get("from"), f"{path}.from")
    end = _date(problems, src, raw.get("to"), f"{path}.to")
    if start is not None and end is not None and start > end:
        problems.add(
            src, path, f"from {start} is after to {end}: the agreement would never be in force"
        )
    return start, end


def _date(problems: _Problems, src: _Source, value: Any, where: str) -> date | None:
    """A date, written 2026-01-01 (quoted or not)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        problems.add(src, where, f"must be a date (YYYY-MM-DD), not a date and time: {value}")
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        problems.add(src, where, f"{value!r} is not a date in YYYY-MM-DD")
        return None


def _review(problems: _Problems, src: _Source, raw: Any, path: str) -> int | None:
    """Review interval in months: ``12``, ``"6 months"``, ``"1 year"``, ``quarterly``."""
    if raw is None:
        return None
    months: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        months = raw
    elif isinstance(raw, str):
        match = _REVIEW.fullmatch(raw.strip())
        if match:
            count = int(match.group(1))
            months = count * 12 if match.group(2).lower().startswith("y") else count
        else:
            months = _REVIEW_WORDS.get(raw.strip().lower())
    if months is None or months <= 0:
        problems.add(
            src,
            path,
            f"cannot read review interval {raw!r}: write it like '12 months', '1 year', "
            "'quarterly' or a number of months",
        )
        return None
    return months


def _condition(
    problems: _Problems,
    src: _Source,
    raw: Any,
    parent: str,
    key: str,
    vocab: _Vocabulary,
    events: bool,
) -> tuple[Condition | None, bool]:
    """The parsed condition under ``parent.key`` (None when absent) and whether it was usable.

    Scopes and policy ``when`` clauses are tested against the ticket alone, so an ``event.*``
    field there would never match; custom metrics (``events=True``) see the event too.
    """
    if raw is None:
        return None, True
    try:
        condition = parse_condition(raw, path=key)
    except ConditionError as exc:
        problems.add(src, f"{parent}.{exc.path}", exc.reason)
        return None, False
    ok = True
    event_fields = sorted(f for f in condition.fields() if f.startswith("event."))
    if event_fields and not events:
        problems.add(
            src,
            f"{parent}.{key}",
            f"reads {', '.join(event_fields)}, but event fields are known only in a custom "
            f"metric's start, stop and pause; a {key} is tested on the ticket alone, so this "
            "would never match",
        )
        ok = False
    if vocab.priorities:
        for where, value in _priority_values(raw, f"{parent}.{key}"):
            if value not in vocab.priorities:
                problems.add(src, where, _unknown("priority", value, vocab.priorities))
                ok = False
    return condition, ok


def _priority_values(raw: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Each value a (successfully parsed) condition compares ``priority`` with, and its path."""
    if isinstance(raw, list):
        for i, item in enumerate(raw):
            yield from _priority_values(item, f"{path}[{i}]")
        return
    if not isinstance(raw, Mapping):
        return
    for key in ("all", "any"):
        if isinstance(raw.get(key), list):
            for i, item in enumerate(raw[key]):
                yield from _priority_values(item, f"{path}.{key}[{i}]")
    if "not" in raw:
        yield from _priority_values(raw["not"], f"{path}.not")
    if raw.get("field") == "priority" and raw.get("value") is not None:
        value = raw["value"]
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield f"{path}.value[{i}]", item
        else:
            yield f"{path}.value", value


def _known_metric(
    problems: _Problems, src: _Source, metric: Any, path: str, vocab: _Vocabulary
) -> bool:
    if isinstance(metric, str) and metric in vocab.metrics:
        return True
    custom = sorted(vocab.metrics - set(BUILTIN_METRICS))
    known = ", ".join(BUILTIN_METRICS) + (f"; custom: {', '.join(custom)}" if custom else "")
    problems.add(
        src,
        path,
        f"unknown metric {metric!r}{did_you_mean(metric, sorted(vocab.metrics))}; "
        f"built-in: {known} (define others under metrics:)",
    )
    return False


def _calendar_name(
    problems: _Problems, src: _Source, raw: Mapping[Any, Any], path: str, vocab: _Vocabulary
) -> str:
    name = raw.get("calendar")
    if name is None:
        return ALWAYS_OPEN
    if not isinstance(name, str) or name not in vocab.calendars:
        known = ", ".join(sorted(vocab.calendars))
        problems.add(
            src,
            f"{path}.calendar",
            f"unknown calendar {name!r}{did_you_mean(name, sorted(vocab.calendars))}; "
            f"known: {known} (define it under calendars:)",
        )
        return ALWAYS_OPEN
    return name


def _duration(problems: _Problems, src: _Source, raw: Any, path: str) -> float | None:
    """Seconds in a duration as written (``8h``, ``PT8H``, seconds); more than zero."""
    if not isinstance(raw, str | int | float):
        problems.add(
            src, path, f"must be a duration like 8h, 1h30m, 2d or PT8H30M, got {kind_of(raw)}"
        )
        return None
    try:
        seconds = parse_duration(raw)
    except ValueError as exc:
        problems.add(src, path, str(exc))
        return None
    if seconds <= 0:
        problems.add(src, path, f"must be longer than zero, got {raw!r}")
        return None
    return seconds


def _durations(
    problems: _Problems, src: _Source, raw: Any, path: str, vocab: _Vocabulary
) -> Mapping[str, float] | None:
    """``8h`` (every priority) or ``{urgent: 1h, high: 4h, "*": 8h}``, as seconds per priority."""
    if not isinstance(raw, Mapping):
        seconds = _duration(problems, src, raw, path)
        return None if seconds is None else MappingProxyType({_ANY_PRIORITY: seconds})
    if not raw:
        problems.add(src, path, "give a duration, or a mapping of priority to duration")
        return None
    durations: dict[str, float] = {}
    ok = True
    for priority, value in raw.items():
        where = f"{path}.{priority}"
        name = str(priority)
        if isinstance(priority, bool) or not isinstance(priority, str | int):
            problems.add(src, where, f"a priority is a name, got {kind_of(priority)}")
            ok = False
            continue
        if vocab.priorities and name != _ANY_PRIORITY and name not in vocab.priorities:
            allowed = (*vocab.priorities, _ANY_PRIORITY)
            problems.add(src, where, _unknown("priority", priority, allowed))
            ok = False
        seconds = _duration(problems, src, value, where)
        if seconds is None:
            ok = False
        else:
            durations[name] = seconds
    return MappingProxyType(durations) if ok else None


def _percent(problems: _Problems, src: _Source, raw: Any, path: str) -> float | None:
    """95, 99.5 or ``"95%"``; more than 0 and at most 100."""
    value: float | None = None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
    elif isinstance(raw, str):
        try:
            value = float(raw.strip().removesuffix("%"))
        except ValueError:
            value = None
    if value is None or not 0 < value <= 100:
        problems.add(
            src,
            path,
            f"must be a percentage more than 0 and at most 100, like 95 or '95%', got {raw!r}",
        )
        return None
    return value


def _warnings(problems: _Problems, src: _Source, raw: Any, path: str) -> tuple[Threshold, ...]:
    """``[75%, 30m]``: warn at a share of the target, or a duration before it is due."""
    if raw is None:
        return ()
    items = raw if isinstance(raw, list) else [raw]
    warnings: list[Threshold] = []
    for i, item in enumerate(items):
        where = f"{path}[{i}]" if isinstance(raw, list) else path
        if isinstance(item, str) and item.strip().endswith("%"):
            percent = _percent(problems, src, item, where)
            if percent is not None:
                warnings.append(Threshold(percent=percent))
        elif isinstance(item, str):
            before = _duration(problems, src, item, where)
            if before is not None:
                warnings.append(Threshold(before=before))
        else:
            problems.add(
                src,
                where,
                f"write 75% for a share of the target or a duration like 30m before it is due, "
                f"got {kind_of(item)}",
            )
    return tuple(warnings)


def _pause_on(problems: _Problems, src: _Source, raw: Any, path: str) -> frozenset[str] | None:
    """duly statuses that pause the clock; ``[]`` means it never pauses (None: the default)."""
    if raw is None:
        return None
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        problems.add(src, path, f"must be a list of statuses, got {kind_of(raw)}")
        return None
    statuses: set[str] = set()
    for i, item in enumerate(items):
        where = f"{path}[{i}]" if isinstance(raw, list) else path
        if item not in STATUSES:
            problems.add(src, where, _unknown("status", item, STATUSES))
        else:
            statuses.add(item)
    return frozenset(statuses)


# --- checks across agreements ------------------------------------------------------------------


def _check_agreement_ids(problems: _Problems, infos: Sequence[_AgreementInfo]) -> None:
    first: dict[str, _AgreementInfo] = {}
    for info in infos:
        if not info.id_ok:
            continue
        agreement_id = info.agreement.id
        if agreement_id in first:
            earlier = first[agreement_id]
            problems.add(
                info.src,
                f"{info.path}.id",
                f"duplicate agreement id {agreement_id!r}; first defined at "
                f"{earlier.src.where(earlier.path, info.src)}",
            )
        else:
            first[agreement_id] = info


def _check_supports(
    problems: _Problems, infos: Sequence[_AgreementInfo], vocab: _Vocabulary
) -> None:
    by_id: dict[str, _AgreementInfo] = {}
    for info in infos:
        if info.id_ok:
            by_id.setdefault(info.agreement.id, info)
    for info in infos:
        for supported_id, where in zip(info.agreement.supports, info.supports_paths, strict=True):
            if supported_id == info.agreement.id:
                problems.add(info.src, where, "an agreement cannot support itself")
                continue
            supported = by_id.get(supported_id)
            if supported is None:
                problems.add(
                    info.src,
                    where,
                    f"unknown agreement {supported_id!r}"
                    f"{did_you_mean(supported_id, sorted(by_id))}",
                )
            elif info.agreement.kind in _BACKING_KINDS:
                _check_backing(problems, info, supported, vocab)


def _check_backing(
    problems: _Problems, backer: _AgreementInfo, backed: _AgreementInfo, vocab: _Vocabulary
) -> None:
    """Each target of an OLA (or UC) must be no looser than the strictest the backed one promises.

    Metric by metric and priority by priority, each policy of the OLA is compared with every
    policy of the agreement it supports that can apply to tickets of that priority (a policy
    ``when: priority is urgent`` promises nothing to high tickets), and a loose case is reported
    once, against the strictest promise it falls short of.
    """
    ours, theirs = backer.agreement, backed.agreement
    for policy_info in backer.policies:
        for target in policy_info.policy.targets:
            promised = [
                (policy, other)
                for policy in theirs.policies
                for other in policy.targets
                if other.metric == target.metric
            ]
            if not promised:
                continue
            for priority in _priorities_to_compare(target, [t for _, t in promised], vocab):
                seconds = target.duration_for(priority)
                if seconds is None or not _may_apply(ours, policy_info.policy, priority, vocab):
                    continue
                candidates = [
                    (limit, policy, other)
                    for policy, other in promised
                    if (limit := other.duration_for(priority)) is not None
                    and _may_apply(theirs, policy, priority, vocab)
                ]
                if not candidates:
                    continue
                limit, policy, other = min(candidates, key=lambda c: c[0])
                if seconds <= limit:
                    continue
                written = policy_info.targets[target.metric]
                key = priority if priority in target.durations else _ANY_PRIORITY
                field_path = written.path if written.scalar else f"{written.path}.{key}"
                for_priority = (
                    "for priorities not listed ('*')"
                    if priority == _ANY_PRIORITY
                    else f"for priority {priority}"
                )
                reason = (
                    f"the {ours.kind.upper()} {ours.id!r} is looser than the "
                    f"{theirs.kind.upper()} {theirs.id!r} it supports: {target.metric} "
                    f"{for_priority} is {format_duration(seconds)} in {ours.id!r} "
                    f"(policy {policy_info.policy.id!r}) but {format_duration(limit)} in "
                    f"{theirs.id!r} (policy {policy.id!r})"
                )
                if target.calendar != other.calendar:
                    reason += (
                        f"; note the calendars differ ({target.calendar} and {other.calendar}), "
                        "so the durations are compared as business seconds of each"
                    )
                problems.add(backer.src, field_path, reason)


def _priorities_to_compare(
    target: Target, others: Sequence[Target], vocab: _Vocabulary
) -> list[str]:
    """The known priorities, or without a ``priorities`` list every one either side names."""
    if vocab.priorities:
        return list(vocab.priorities)
    named = {p for t in (target, *others) for p in t.durations if p != _ANY_PRIORITY}
    return [*sorted(named), _ANY_PRIORITY]


def _may_apply(agreement: Agreement, policy: Policy, priority: str, vocab: _Vocabulary) -> bool:
    """Whether the scope and the policy's when could match some ticket of ``priority``."""
    # Without a priorities list the engine has no order for priority either: pass no table.
    ranks = {"priority": vocab.ranks} if vocab.priorities else None
    return all(
        _may_match(condition, priority, ranks)
        for condition in (agreement.scope, policy.when)
        if condition is not None
    )


def _may_match(
    condition: Condition, priority: str, ranks: Mapping[str, Mapping[str, int]] | None
) -> bool:
    """False only when ``condition`` rules out tickets of ``priority`` whatever their other fields.

    Rules on other fields are unknown and so may match; rules on priority are decided exactly.
    """
    if isinstance(condition, Rule):
        return condition.field != "priority" or condition.matches({"priority": priority}, ranks)
    if isinstance(condition, All):
        return all(_may_match(item, priority, ranks) for item in condition.items)
    if isinstance(condition, AnyOf):
        return any(_may_match(item, priority, ranks) for item in condition.items)
    if isinstance(condition, Not) and condition.item.fields() == frozenset({"priority"}):
        return not condition.item.matches({"priority": priority}, ranks)
    return not condition.always_false()


def _check_policy_order(problems: _Problems, info: _AgreementInfo) -> None:
    """First match wins: a policy behind one that always matches, or matches the same, is dead."""
    for j, later in enumerate(info.policies):
        if not later.when_ok:
            continue
        when = later.policy.when
        if when is not None and when.always_false():
            problems.add(info.src, later.path, "can never match: its when matches no ticket")
            continue
        for earlier in info.policies[:j]:
            if not earlier.when_ok:
                continue
            before = earlier.policy.when
            name = f"policy {earlier.policy.id!r} ({earlier.path.rpartition('.')[2]})"
            if before is None or before.always_true():
                problems.add(
                    info.src,
                    later.path,
                    f"can never match: the earlier {name} matches every ticket and the first "
                    "matching policy applies; move this one above it or narrow its when",
                )
                break
            if when is not None and before == when:
                problems.add(
                    info.src,
                    later.path,
                    f"can never match: the earlier {name} has the same when and the first "
                    "matching policy applies",
                )
                break


# --- messages --------------------------------------------------------------------------------


def _unknown(what: str, value: Any, allowed: Sequence[str]) -> str:
    hint = did_you_mean(value, allowed)
    return f"unknown {what} {value!r}{hint}; expected one of {', '.join(allowed)}"
