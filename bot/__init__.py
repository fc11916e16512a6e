"""Rapport's own code, in three parts that import one way only:

- coach/: the coach's domain, plain Python without Rasa (knowledge, engine,
  interview, conversation, presentation, extraction, canvas, exports, store);
- plugins/: the Rasa plug-ins (NLU components, the patched server, channels);
- web/: the web app (landing page, widget loader).

knowledge/ holds the YAML a mentor reads and edits: relationship types, rules,
checks, touchpoints, KPIs, playbook, the interview, and the words for answers.
"""
