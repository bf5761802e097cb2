"""A bare Flask "hello world": the yardstick for the throughput ratio in server_speed.py."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
