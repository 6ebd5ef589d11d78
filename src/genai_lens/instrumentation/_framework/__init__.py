"""What the framework instrumentors (LangChain, LlamaIndex) and the vector-DB instrumentors share.

``runs``: framework runs as spans, parented by the framework's own run ids and made current for the run so
provider and database spans nest under them. ``model_call``: the framework LLM span and the single-counting
rule. ``retrieval``: vector-database and retrieval spans (``gen_ai.retrieval.*`` + ``db.*``).
"""
