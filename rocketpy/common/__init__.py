"""rocketpy.common"""
