"""The page in the browser (`python -m purenn serve`): draw a digit, look inside, see mistakes, watch one learn.

    models    the networks served: what each sees in a picture, its hidden layers, its mistakes
    learn     Learn: a small network trained in the server's process, bounded, one at a time
    api       the requests and their answers, without sockets; the page's three files
    server    the threading http.server in front of it: limits, Host checks, a clean stop
    assets/   index.html, page.js, page.css: the page itself, written here, served by nothing else

Standard library only; the page loads nothing from elsewhere and works offline.
"""
