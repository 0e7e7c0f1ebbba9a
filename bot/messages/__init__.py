"""Every sentence the conversation says, in plain Simplified Chinese, one module per feature for
review (common, intake, loop, privacy, staff, services_list, trainings). `from bot import messages` gives
them all: `messages.SUBMITTED_SHORT`."""

from bot.messages.common import *  # noqa: F403
from bot.messages.intake import *  # noqa: F403
from bot.messages.loop import *  # noqa: F403
from bot.messages.privacy import *  # noqa: F403
from bot.messages.services_list import *  # noqa: F403
from bot.messages.staff import *  # noqa: F403
from bot.messages.trainings import *  # noqa: F403
