"""plait's Keras 2 preprocessing gives Keras 3's results (`make_text_golden.py`).

Every case of `cases.py` runs on plait and is compared with the golden Keras run:
exactly (same dtypes, shapes and values; `tfidf` floats included), `word_index`
order included. The Tokenizer JSON Keras wrote is read back by plait's
`tokenizer_from_json`, which must answer as the Keras tokenizer did.
"""

import json
import pathlib

import pytest

from plait.preprocessing import sequence, text
from plait.utils import pad_sequences
from tests.preprocessing import cases

GOLDEN = json.loads(
    (pathlib.Path(__file__).parent / "golden" / "preprocessing.json").read_text()
)
PLAIT_API = cases.make_api(sequence, text, pad_sequences)


@pytest.fixture(scope="module")
def plait_results():
    # JSON round trip: tuples become lists, as in the golden file.
    return json.loads(json.dumps(cases.run_all(PLAIT_API)))


def test_parity_golden_covers_every_case():
    assert GOLDEN["keras"].startswith("3.")
    assert set(GOLDEN["tokenizer"]) == {c[0] for c in cases.TOKENIZERS}
    assert set(GOLDEN["pad_sequences"]) == {c[0] for c in cases.PADS}
    assert set(GOLDEN["skipgrams"]) == {c[0] for c in cases.SKIPGRAMS}
    assert set(GOLDEN["timeseries"]) == {c[0] for c in cases.TIMESERIES}


@pytest.mark.parametrize("case", [c[0] for c in cases.TOKENIZERS])
def test_parity_tokenizer(plait_results, case):
    ours, keras = plait_results["tokenizer"][case], GOLDEN["tokenizer"][case]
    assert list(ours) == list(keras)
    for key in keras:
        assert ours[key] == keras[key], key


@pytest.mark.parametrize("case", [c[0] for c in cases.TOKENIZERS])
def test_parity_tokenizer_from_keras_json(case):
    kind = next(c[2] for c in cases.TOKENIZERS if c[0] == case)
    tokenizer = text.tokenizer_from_json(GOLDEN["tokenizer_json"][case])
    ours = json.loads(json.dumps(cases.tokenizer_results(tokenizer, kind)))
    for key, value in GOLDEN["tokenizer"][case].items():
        assert ours[key] == value, key


@pytest.mark.parametrize(
    "group", ["pad_sequences", "make_sampling_table", "skipgrams", "timeseries"]
)
def test_parity_sequence(plait_results, group):
    ours, keras = plait_results[group], GOLDEN[group]
    assert list(ours) == list(keras)
    for case in keras:
        assert ours[case] == keras[case], case


@pytest.mark.parametrize("group", ["text_to_word_sequence", "hashing_trick_md5"])
def test_parity_words(plait_results, group):
    assert plait_results[group] == GOLDEN[group]
