"""Write design_sample.csv: a small deterministic survey-shaped data set for the R reference values.

Not respondent data: generated here from a fixed seed (run: python tests/reference/make_design_sample.py).
Its codebook is design_codebook.yaml beside it.
"""

from pathlib import Path

import numpy as np
import pandas as pd

rng = np.random.default_rng(20240611)
n = 90
sector = rng.choice(["public", "prive", "autre"], size=n, p=[0.66, 0.28, 0.06])
size = rng.choice(["petite", "grande"], size=n, p=[0.45, 0.55])
filt = np.where(rng.random(n) < np.where(sector == "public", 0.45, 0.6), "oui", "non")
pick = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
score = np.clip(np.round(rng.normal(np.where(sector == "public", 7.5, 6.5), 1.8)), 1, 10).astype(int)
kx = (rng.random(n) < np.where(size == "grande", 0.6, 0.35)).astype(int)
ky = (rng.random(n) < 0.4).astype(int)
ky = np.where(kx + ky == 0, 1, ky)  # a multi-select answer ticks at least one option
df = pd.DataFrame(
    {
        "respondent_id": [f"R{i:03d}" for i in range(n)],
        "wave": "1",
        "submitted_at": "2022-06-01",
        "sector": sector,
        "size": size,
        "filter": filt,
        "pick": pick,
        "score": score,
        "kinds__x": np.where(filt == "oui", kx, -1),
        "kinds__y": np.where(filt == "oui", ky, -1),
    }
)
for c in ("kinds__x", "kinds__y"):
    df[c] = df[c].astype(object).where(df[c] >= 0, "")
df.to_csv(Path(__file__).with_name("design_sample.csv"), index=False)
