"""`import expand_mnist` with this folder on sys.path: purenn.expand_mnist itself (purenn/book/__init__.py)."""
import purenn.book

purenn.book.become(__name__)
