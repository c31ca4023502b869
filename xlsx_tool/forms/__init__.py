"""The blank 评分细则 forms: their layout, the writer, generation, last quarter's problems."""
