# Tracemark web pages (fr): the traces area. Same keys in every language (tests/web.rs).
