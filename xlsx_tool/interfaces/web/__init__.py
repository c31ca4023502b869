"""The page in the browser (`xlsx-tool serve`): Flask app, its checks, templates and static files."""
