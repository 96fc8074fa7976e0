"""DynaSig-ML 1.0.9's own protocol on dynamotif signatures; run by ``benchmarks/mir125a.py`` in the oracle venv.

Usage: ``ORACLE_PYTHON mir125a_oracle.py IN.npz lasso,RF,GBR`` -> one JSON line. IN.npz holds ``ids``
(train first), ``n_train``, ``betas``, ``values`` (n_beta, n, N), ``eff`` and ``energy``. A ``DynaSigDF``
is filled with these arrays (no ENCoM run), then ``DynaSigML_Model`` trains and selects exactly as the
package does: z-scores with train+test statistics, α/β/model chosen by *test* R², unseeded RF/GBR.
Only dynasigml / numpy / scikit-learn are imported here.
"""

from __future__ import annotations

import json
import pickle
import sys

import numpy as np
from dynasigml.dynasig_df import DynaSigDF
from dynasigml.dynasig_ml_model import DynaSigML_Model, _get_ef
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor


def build_dsdf(z, path: str) -> None:
    ids = [str(x) for x in z["ids"]]
    betas = [float(b) for b in z["betas"]]
    values = z["values"]
    dsdf = DynaSigDF.__new__(DynaSigDF)
    dsdf.files_list = ids
    dsdf.exp_measures = [[float(a), float(b)] for a, b in zip(z["eff"], z["energy"], strict=True)]
    dsdf.exp_labels = ["eff", "mcfold_energy"]
    dsdf.n_exp = 2
    dsdf.outname = path
    dsdf.models = [None]
    dsdf.models_labels = ["ENCoM"]
    dsdf.beta_values = betas
    dsdf.id_func = None
    dsdf.use_svib = False
    dsdf.verbose = False
    dsdf.use_localsig = False
    dsdf.index_dict, dsdf.params_dict = {}, {}
    dsdf.dynasigs_masslabels = [f"bead{i}" for i in range(values.shape[2])]
    data = np.zeros((len(ids) * len(betas), 3 + values.shape[2]))
    index = 0
    for i, fid in enumerate(ids):
        dsdf.params_dict[fid] = {"ENCoM": {}}
        for k, beta in enumerate(betas):
            dsdf.params_dict[fid]["ENCoM"][beta] = index
            dsdf.index_dict[index] = [fid, "ENCoM", beta]
            data[index, 0], data[index, 1], data[index, 2] = beta, z["eff"][i], z["energy"][i]
            data[index, 3:] = values[k, i]
            index += 1
    dsdf.data_array = data
    with open(path, "wb") as fh:
        pickle.dump(dsdf, fh)


def scores(model, ids_test, beta, best_r2, reals, preds) -> dict:
    reals, preds = np.asarray(reals), np.asarray(preds)
    k = max(1, int(round(0.1 * reals.size)))
    topk = len(set(np.argsort(-preds, kind="stable")[:k]) & set(np.argsort(-reals, kind="stable")[:k])) / (
        k * 0.1
    )
    return {
        "test_r2_selected_on_test": round(float(best_r2), 4),
        "test_pearson_r": round(float(np.corrcoef(reals, preds)[0, 1]), 4),
        "test_ef10_dynasigml": round(float(_get_ef(reals, preds)), 3),
        "test_ef10": round(float(topk), 3),
        "beta": round(float(beta), 4),
    }


def main() -> int:
    z = np.load(sys.argv[1])
    models = sys.argv[2].split(",")
    build_dsdf(z, "dsdf.pickle")
    ids = [str(x) for x in z["ids"]]
    n_train = int(z["n_train"])
    train, test = ids[:n_train], ids[n_train:]
    out = {}
    for name in models:
        if name == "lasso":
            m = DynaSigML_Model("dsdf.pickle", train_ids=train, test_ids=test)
            m.train_test_lasso()
            best_r2, (beta, alpha, _conv), _tr, model = m.get_best_params_lasso()
        else:
            est = {"RF": RandomForestRegressor(), "GBR": GradientBoostingRegressor()}[name]
            m = DynaSigML_Model(
                "dsdf.pickle", train_ids=train, test_ids=test, ml_models=[est], ml_models_labels=[name]
            )
            m.train_test_ml_models()
            best_r2, beta, _tr, model, _lab = m.get_best_params_ml()
            alpha = None
        _train, test_data, _std = m.get_train_test_std(beta)
        preds = model.predict(test_data[:, m.pred_cols])
        out[name] = scores(model, test, beta, best_r2, test_data[:, m.targ_col], preds)
        if alpha is not None:
            out[name]["alpha"] = alpha
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
