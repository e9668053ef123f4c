"""`import network2` with this folder on sys.path: purenn.network2 itself (purenn/book/__init__.py)."""
import purenn.book

purenn.book.become(__name__)
