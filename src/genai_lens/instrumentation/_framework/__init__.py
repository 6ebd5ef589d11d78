"""What the framework instrumentors (LangChain, LlamaIndex) and the vector-DB instrumentors share.

``lazy``: patches applied when the library is imported, and ``LazyInstrumentor``, the base of all four.
``runs``: framework runs as spans, parented by the framework's own run ids and made current for the run so
provider and database spans nest under them (streams read later stay current until they end).
``model_call``: the framework LLM span and the single-counting rule. ``retrieval``: vector-database and
retrieval spans (``gen_ai.retrieval.*`` + ``db.*``) and ``VectorDbInstrumentor``. ``native_spans``: notice
the spans provider SDKs record themselves.
"""
