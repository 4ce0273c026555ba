"""Which tools Claude sees for a request, and which existing tools a new one would duplicate.

A small library is offered whole. Past `offer_all_up_to` tools, a request is offered the core built-ins
plus the `top_k` tools that rank best for it (BM25 over name, description, parameters and the requests
each tool served before), and `find_tools` lets Claude pull in more. The set is chosen once per job and
only grows, so the tool block stays byte-stable between turns and prompt caching keeps working.
"""

from __future__ import annotations

import difflib
import re
import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import snowballstemmer
from rank_bm25 import BM25Okapi

from workers.registry import Registry, ToolVersion
from workers.tool_contract import ContractError, ToolSpec, spec_from_source
from workers.tool_usage import ToolUsage

STEMMER = snowballstemmer.stemmer("english")
CORE_TOOLS = ("aws_export_data", "list_aws_resources", "aws_take_screenshot")
STALE_WEIGHT = 0.5
STOPWORDS = frozenset("a an and the of for to in on by with from as is are be or all my our your me us we "
                      "please show give export every each this that it its".split())
SYNONYMS = {"mfa": "mfa multi factor", "2fa": "mfa", "logs": "log", "bucket": "s3 bucket", "buckets": "s3 bucket",
            "db": "rds database", "database": "rds", "trail": "cloudtrail", "key": "kms key", "alarm": "cloudwatch"}


def tokens(text: str) -> list[str]:
    """Words of a name or sentence: snake_case and CamelCase split, lower-cased, stemmed (Snowball)."""
    spaced = re.sub(r"([a-z0-9])([A-Z][a-z])", r"\1 \2", text).replace("_", " ").lower()
    words: list[str] = []
    for word in re.findall(r"[a-z0-9]+", spaced):
        if word in STOPWORDS:
            continue
        words.extend(SYNONYMS.get(word, word).split())
    return [stem(w) for w in words]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return STEMMER.stemWord(word)


def name_coverage(name: str, query_words: set[str]) -> float:
    """How much of a tool's name the request says: separates `describe_clusters` from `describe_cluster_tracks`."""
    words = tokens(name)
    return sum(w in query_words for w in words) / len(words) if words else 0.0


@lru_cache(maxsize=4096)
def cached_spec(name: str, sha256: str, source: str) -> ToolSpec | None:
    """Parsing 500 modules per request would cost half a second; a version's spec never changes."""
    try:
        return spec_from_source(name, source)
    except ContractError:
        return None


@dataclass(frozen=True)
class Candidate:
    name: str
    description: str
    parameters: dict
    score: float

    def to_dict(self) -> dict:
        return {"name": self.name, "description": self.description,
                "parameters": sorted(self.parameters.get("properties", {})), "score": round(self.score, 2)}


class ToolCatalog:
    """The approved, unretired tools and ranked views of them."""

    def __init__(self, registry: Registry, usage: ToolUsage, *, offer_all_up_to: int = 20, top_k: int = 7) -> None:
        self.registry = registry
        self.usage = usage
        self.offer_all_up_to = offer_all_up_to
        self.top_k = top_k
        self._index: tuple[list[tuple[ToolVersion, ToolSpec]], BM25Okapi] | None = None

    def available(self) -> list[tuple[ToolVersion, ToolSpec]]:
        approved = self.registry.approved()
        retired = self.usage.retired_among([v.name for v in approved])
        found = []
        for version in approved:
            spec = cached_spec(version.name, version.sha256, version.source)
            if spec is not None and version.name not in retired:
                found.append((version, spec))
        return found

    def offer(self, request: str, pinned: list[str]) -> list[str]:
        """Names to offer for a request; `pinned` are tools the job already pulled in."""
        available = [v.name for v, _ in self.available()]
        if len(available) <= self.offer_all_up_to:
            return sorted(set(available) | set(pinned))
        ranked = [c.name for c in self.search(request, self.top_k, exclude=CORE_TOOLS)]
        return sorted({*(n for n in CORE_TOOLS if n in available), *ranked, *pinned})

    def search(self, query: str, k: int, exclude: tuple[str, ...] = ()) -> list[Candidate]:
        entries, index = self._build()
        query_words = tokens(query)
        scores = index.get_scores(query_words)
        hits = [(v, spec, float(score)) for (v, spec), score in zip(entries, scores, strict=True)
                if score > 0 and v.name not in exclude]
        last_uses = self.usage.last_uses([v.name for v, _, _ in hits])
        now = time.time()
        ranked = []
        for version, spec, score in hits:
            last = last_uses[version.name] or datetime.fromisoformat(version.created_at).timestamp()
            weight = STALE_WEIGHT if now - last > self.usage.stale_after else 1.0
            boost = 1 + name_coverage(version.name, set(query_words))
            ranked.append(Candidate(version.name, spec.description, spec.parameters, score * weight * boost))
        ranked.sort(key=lambda c: (-c.score, c.name))
        return ranked[:k]

    def neighbours(self, name: str, description: str, limit: int = 5) -> list[Candidate]:
        """Existing tools a new one would nearly duplicate: a close name, or mostly the same words."""
        words = set(tokens(name) + tokens(description))
        close = []
        for version, spec in self.available():
            name_ratio = difflib.SequenceMatcher(None, name, version.name).ratio()
            theirs = set(tokens(version.name) + tokens(spec.description))
            overlap = len(words & theirs) / len(words | theirs) if words | theirs else 0.0
            if name_ratio >= 0.8 or overlap >= 0.5:
                close.append(Candidate(version.name, spec.description, spec.parameters, max(name_ratio, overlap)))
        close.sort(key=lambda c: (-c.score, c.name))
        return close[:limit]

    def _build(self) -> tuple[list[tuple[ToolVersion, ToolSpec]], BM25Okapi]:
        if self._index is None:
            entries = self.available()
            served_by = self.usage.served_texts([v.name for v, _ in entries])
            corpus = []
            for version, spec in entries:
                params = " ".join(f"{p} {d.get('description', '')}" for p, d in
                                  spec.parameters.get("properties", {}).items())
                served = " ".join(served_by[version.name])
                corpus.append(tokens(version.name) * 2 + tokens(spec.description) + tokens(params) + tokens(served)
                              or ["_"])
            self._index = (entries, BM25Okapi(corpus or [["_"]]))
        return self._index
