import numpy as np
import pytest

from components.common.errors import InputError
from components.seqmodels.alphabet import DNA, PROTEIN, RNA, Alphabet, LengthPolicy, get_alphabet, one_hot
from components.seqmodels.structure import FoldOptions, annotate, fold, validate_dotbracket


def test_one_hot_channels_first_and_padding_mask():
    X, m = one_hot(["ACGU", "AC"], RNA, 5)
    assert X.shape == (2, 4, 5) and X.dtype == np.float32
    assert X[0, :, 0].tolist() == [1, 0, 0, 0] and X[0, :, 3].tolist() == [0, 0, 0, 1]
    assert m.tolist() == [[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]]
    X, m = one_hot(["AC"], RNA, 4, "pad=left")
    assert m.tolist() == [[0, 0, 1, 1]] and X[0, 0, 2] == 1
    X, m = one_hot(["AC"], RNA, 4, LengthPolicy(pad="both"))
    assert m.tolist() == [[0, 1, 1, 0]]


def test_crop_policy_and_too_long_error():
    with pytest.raises(InputError, match="longer than the model input"):
        one_hot(["ACGUA"], RNA, 4)
    X, m = one_hot(["ACGUA"], RNA, 4, "crop=left")
    assert X[0].argmax(0).tolist() == [1, 2, 3, 0] and m.sum() == 4


def test_wildcard_is_uniform_and_invalid_letter_names_position():
    X, _ = one_hot(["ANG"], DNA, 3)
    assert np.allclose(X[0, :, 1], 0.25)
    with pytest.raises(InputError, match=r"seqA.*invalid character 'Z' at position 3"):
        one_hot(["ACZ"], DNA, 3, names=["seqA"])


def test_extended_alphabet_decode_and_encoding():
    ext = RNA.with_structure("SHIME")
    assert ext.n_channels == 20 and len(ext.letters_extended) == 20
    assert ext.decode(0) == ("A", "S") and ext.decode(19) == ("U", "E") and ext.decode(6) == ("C", "H")
    X, _ = one_hot(["AC"], ext, 2, structures=["SH"])
    assert X[0, 0, 0] == 1 and X[0, 6, 1] == 1 and X.sum() == 2
    with pytest.raises(InputError, match="structure"):
        one_hot(["AC"], ext, 2)


def test_alphabets():
    assert get_alphabet("dna") is DNA and get_alphabet("Protein") is PROTEIN
    assert get_alphabet("abc").letters == "ABC"
    with pytest.raises(ValueError):
        Alphabet("x", "AAB")


def test_annotate_loop_contexts():
    # exterior ends, stem, hairpin
    assert annotate("..((...))..") == "EESSHHHSSEE"
    # bulge/internal: one inner pair
    assert annotate("((.((...)).))") == "SSISSHHHSSISS"
    # multiloop: two inner pairs inside the closing pair
    db = "((.((..)).((..)).))"
    assert annotate(db) == "SSMSSHHSSMSSHHSSMSS"
    assert len(annotate("." * 7)) == 7 and set(annotate("." * 7)) == {"E"}
    with pytest.raises(InputError):
        validate_dotbracket("(()")


def test_fold_cache_and_pool(tmp_path):
    seqs = ["GGGGAAACCCC", "GGGAAAUCCC" * 2]
    stats: dict = {}
    dbs = fold(seqs, cache_dir=tmp_path, processes=1, stats=stats)
    assert dbs[0] == "((((...))))" and stats["folded"] == 2
    stats2: dict = {}
    assert (
        fold(seqs, cache_dir=tmp_path, stats=stats2) == dbs
        and stats2["folded"] == 0
        and stats2["cached"] == 2
    )
    # different options = different cache key
    fold(seqs[:1], cache_dir=tmp_path, options=FoldOptions(no_lonely_pairs=False), stats=stats2)
    assert stats2["folded"] == 1
    many = [s * 3 for s in seqs] * 70
    pooled = fold(many, cache_dir=None, processes=2)
    assert pooled == fold(many[:2], cache_dir=None, processes=1) * 70
