"""The coach's domain, plain Python that never imports Rasa (tests/test_layout.py
checks it): the relationship knowledge and its loader, the selection engine, the
interview, reading facts out of free text, the block, its exports and the canvas
store. Every front door (the Rasa actions, the channels, the web app) calls in here.
"""
