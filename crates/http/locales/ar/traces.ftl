# Tracemark web pages (ar): the traces area. Same keys in every language (tests/web.rs).
