"""rocketpy.remoting"""
