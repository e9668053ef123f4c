"""`import network3` with this folder on sys.path: purenn.network3 itself (purenn/book/__init__.py)."""
import purenn.book

purenn.book.become(__name__)
