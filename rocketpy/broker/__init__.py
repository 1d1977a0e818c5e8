"""rocketpy.broker"""
