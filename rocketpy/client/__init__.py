"""rocketpy.client"""
