"""rocketpy.store"""
