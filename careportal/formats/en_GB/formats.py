from careportal.formats.en.formats import *  # noqa: F403  (LANGUAGE_CODE en-gb)
