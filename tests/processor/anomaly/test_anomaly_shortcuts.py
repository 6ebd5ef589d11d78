"""The anomaly stage's shortcuts give what the plain code gives: the remembered tails of a text output
match as the regex does, and the baseline's spelled-out ``max``/``min`` update equals the built-ins."""

from __future__ import annotations

import math
import random
import struct

from hypothesis import given
from hypothesis import strategies as st

from genai_lens.processor.anomaly import categorical
from genai_lens.processor.anomaly.baseline import CLIP, MIN_LOG_SCALE, RobustBaseline

TAILS = [
    "}]}]",
    '}],"finish_reason":"stop"}]',
    '}], "finish_reason": "length"}]',
    ' } ] , "finish_reason" : "x" } ] \n',
    '}],"finish_reason":"st\\"op"}]',
    "}]",
    "}]}]}",
    '}],"finish_reason":"stop"}],[',
    "",
    " " * 200 + "}]}]",  # too long to be remembered
]


@given(st.lists(st.sampled_from(TAILS) | st.text(alphabet='}] ,":\\fnishreaso_top\n', max_size=40)))
def test_remembered_tails_match_as_the_regex_does(tails: list[str]) -> None:
    for tail in tails + tails:  # the second time from memory
        assert categorical._text_output_tail(tail) == (categorical._TEXT_OUTPUT_TAIL.match(tail) is not None)
    assert len(categorical._TAILS) <= categorical._TAILS_KEPT
    assert all(len(tail) <= categorical._TAIL_KEPT_LENGTH for tail in categorical._TAILS)


def reference_step(baseline: RobustBaseline, value: float, alpha: float) -> None:
    """The steady-state update as first written, with the built-in ``max`` and ``min``."""
    scale = max(math.sqrt(baseline.variance), MIN_LOG_SCALE)
    limit = CLIP * scale
    clipped = min(max(value - baseline.center, -limit), limit)
    baseline.count += 1
    baseline.center += alpha * clipped
    baseline.variance = (1.0 - alpha) * baseline.variance + alpha * clipped * clipped


def state_bits(baseline: RobustBaseline) -> tuple[int, bytes, bytes]:
    return baseline.count, struct.pack("<d", baseline.center), struct.pack("<d", baseline.variance)


@given(
    st.lists(st.floats(min_value=0.0, allow_nan=False), min_size=1, max_size=60),
    st.floats(min_value=1e-6, max_value=1.0),
)
def test_score_and_add_equals_the_builtin_min_max_update(values: list[float], alpha: float) -> None:
    ours, reference = RobustBaseline(), RobustBaseline()
    for baseline in (ours, reference):
        baseline.warmup = None  # steady state from the start
        baseline.center, baseline.variance = 5.0, 0.0
    for value in values:
        expected_z = (value - reference.center) / max(math.sqrt(reference.variance), MIN_LOG_SCALE)
        z = ours.score_and_add(value, alpha, 0)
        reference_step(reference, value, alpha)
        assert z is not None and struct.pack("<d", z) == struct.pack("<d", expected_z)
        assert state_bits(ours) == state_bits(reference)


def test_warm_up_then_steady_state_through_add_and_score_and_add() -> None:
    rng = random.Random(3)
    values = [math.log1p(rng.lognormvariate(6, 0.4)) for _ in range(200)]
    scored, added = RobustBaseline(), RobustBaseline()
    for value in values:
        scored.score_and_add(value, 0.02, 30)
        added.add(value, 0.02, 30)
    assert scored.warmup is None and state_bits(scored) == state_bits(added)
    assert scored.count == len(values)
