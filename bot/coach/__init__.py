"""The coach's domain, plain Python that never imports Rasa (tests/test_layout.py
checks it). Every front door (the Rasa actions, the channels, the web app) calls in here.

- knowledge.py: loads and checks bot/knowledge/*.yml (interview.yml included);
- engine.py: ranked relationship types with reasons and the rules that fired; block checks;
- interview.py: the venture and segment interviews, turn by turn;
- conversation.py: recommendations, edits, answers, advice, prompts: what the coach says;
- presentation.py: a turn's outcome as data (TurnResult), the block and advice built once;
- extract.py, phrases.py: facts and vocabulary read out of free text;
- profile.py, canvas.py: a segment profile; a block of segments and choices;
- export.py: Markdown and JSON; store/: the canvas store (SQLAlchemy, Alembic).
"""
