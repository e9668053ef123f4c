"""`import mnist_svm` with this folder on sys.path: purenn.mnist_svm itself (purenn/book/__init__.py)."""
import purenn.book

purenn.book.become(__name__)
