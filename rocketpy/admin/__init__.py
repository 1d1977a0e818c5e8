"""rocketpy.admin"""
