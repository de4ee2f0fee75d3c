"""The vocabulary of risk indicators, as child-protection guidance describes them.

Each category is a *warning sign*, not a verdict: moderators read them as reasons to look.
"""

from enum import StrEnum


class Category(StrEnum):
    AGE_PROBING = "age_probing"
    PERSONAL_INFO = "personal_info"
    SUPERVISION_PROBING = "supervision_probing"
    SECRECY = "secrecy"
    ISOLATION = "isolation"
    FLATTERY = "flattery"
    GIFT_OFFER = "gift_offer"
    PLATFORM_MIGRATION = "platform_migration"
    IMAGE_REQUEST = "image_request"
    CAMERA_REQUEST = "camera_request"
    MEETING_REQUEST = "meeting_request"
    SEXTORTION_THREAT = "sextortion_threat"
    PAYMENT_DEMAND = "payment_demand"
    PRESSURE = "pressure"
    # The seed's own harms: threats with AI-made images, and adults arranging the paid
    # live-streamed abuse of a child (between adults, so no child in the conversation).
    DEEPFAKE_THREAT = "deepfake_threat"
    LIVESTREAM_COMMISSIONING = "livestream_commissioning"
    # Media and behaviour categories (not from text patterns).
    KNOWN_IMAGERY = "known_imagery"
    USER_REPORT = "user_report"
    MANY_MINORS = "many_minors"


CATEGORIES: dict[Category, str] = {
    Category.AGE_PROBING: "asks the other person's age, school year or birthday",
    Category.PERSONAL_INFO: "asks where the child lives, their school, address or phone number",
    Category.SUPERVISION_PROBING: "asks whether parents are around or the child is alone",
    Category.SECRECY: "asks to keep the conversation or relationship secret",
    Category.ISOLATION: "sets the child against family or friends ('only I understand you')",
    Category.FLATTERY: "excessive compliments on looks or maturity",
    Category.GIFT_OFFER: "offers gifts, game currency, skins or money",
    Category.PLATFORM_MIGRATION: "asks to move to a private app (Snapchat, Telegram, WhatsApp…)",
    Category.IMAGE_REQUEST: "asks for photos of the child",
    Category.CAMERA_REQUEST: "asks the child to turn on a camera or video call",
    Category.MEETING_REQUEST: "asks to meet in person",
    Category.SEXTORTION_THREAT: "threatens to share images or harm unless the child complies",
    Category.PAYMENT_DEMAND: "demands money, gift cards or crypto",
    Category.PRESSURE: "insists, guilt-trips or sets deadlines",
    Category.DEEPFAKE_THREAT: "threatens to make or share AI-generated fake images of the child",
    Category.LIVESTREAM_COMMISSIONING: "adults arranging a paid live stream involving a child",
    Category.KNOWN_IMAGERY: "media matches a hash list of known abuse imagery",
    Category.USER_REPORT: "a user reported this account",
    Category.MANY_MINORS: "an adult contacting many unrelated minors",
}
