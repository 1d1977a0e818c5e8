"""rocketpy.protocol"""
