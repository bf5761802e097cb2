from secgo import create_app

app = create_app()
