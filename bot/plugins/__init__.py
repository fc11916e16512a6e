"""Rasa plug-ins: the only code besides actions/ that imports Rasa.

- nlu/: components of the NLU pipeline that config.yml names;
- rasa_server.py: the Rasa server as `make run` starts it, with the project's
  patches of Rasa, checked at start-up;
- channels/: input channels that credentials.yml names (the web widget's socket.io).
"""
