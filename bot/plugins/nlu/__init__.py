"""Components of the Rasa NLU pipeline that config.yml names: the spaCy model
builder (spacy_model.py), the intent classifier, and the entity extractor that
finds the knowledge files' vocabulary (through bot.coach.extract)."""
