"""The model families of the course, from LeNet to DPN."""
