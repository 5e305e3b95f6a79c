import pytest

from explorer.app.urlstate import decode, encode

VIEW = {
    "dataset": "fashion-mnist",
    "left": "fashion-mnist-ae-z2",
    "right": "fashion-mnist-vae-z2",
    "sel": 42,
    "cursor_left": [0.5, -1.25],
    "cursor_right": [1e-3, 2.0, 3.5],
    "interp_a": 3,
    "interp_b": 9,
    "interp_method": "spherical",
    "interp_steps": 12,
    "interp_t": 0.25,
    "tab": "Manifold grid",
}


def test_round_trip():
    q = encode(VIEW)
    assert all(isinstance(v, str) for v in q.values())
    back, problems = decode(q)
    assert problems == [] and back == VIEW


def test_none_left_out_and_unknown_refused():
    assert encode({"sel": None, "interp_a": 1}) == {"a": "1"}
    with pytest.raises(KeyError):
        encode({"zoom": 3})


@pytest.mark.parametrize(
    "params, bad",
    [
        ({"sel": "abc"}, "sel"),
        ({"sel": "-3"}, "sel"),
        ({"t": "nan"}, "t"),
        ({"zl": "1,two"}, "zl"),
        ({"zl": ",".join(["1"] * 1000)}, "zl"),
        ({"ds": "x" * 5000}, "ds"),
        ({"ds": "a\nb"}, "ds"),
        ({"zoom": "3"}, "zoom"),
    ],
)
def test_malformed_values_dropped_with_a_note(params, bad):
    view, problems = decode({**params, "a": "5"})
    assert view == {"interp_a": 5}
    assert len(problems) == 1 and bad in problems[0]


def test_repeated_parameter_takes_the_last():
    view, problems = decode({"sel": ["1", "7"]})
    assert view == {"sel": 7} and not problems
