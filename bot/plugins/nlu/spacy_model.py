"""Builds the blank English spaCy pipeline that Rasa's SpacyNLP loads by path.

No pretrained spaCy pipeline can be downloaded here, so the project makes its own:
spaCy's English tokenizer plus lookup lemmas from spacy-lookups-data. Lemmas let
Rasa's CountVectorsFeaturizer see "communities" and "community" as one word.
To use a pretrained pipeline instead, set `model: en_core_web_md` in config.yml.

    python -m bot.plugins.nlu.spacy_model var/spacy/rapport_en
"""

import sys
from pathlib import Path

import spacy

DEFAULT_PATH = Path("var/spacy/rapport_en")


def build(path: Path = DEFAULT_PATH) -> Path:
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()  # loads the lookup tables from spacy-lookups-data into the pipeline
    nlp.meta["name"] = "rapport_en"
    nlp.meta["description"] = "Blank English tokenizer with lookup lemmas, built by Rapport"
    path.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(path)
    return path


if __name__ == "__main__":
    target = build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PATH)
    print(f"spaCy pipeline written to {target}")
